/**
 * `npm run demo`: the whole to-do flow, offline, with no credentials. Starts the in-repo Feishu emulator and the
 * real bot on loopback, plays a group chat against them, and prints what each side does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORM_FIELDS } from '../src/domain/todo-form';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { botEnv } from '../test/bot-env';
import { type RecordedCall, cardActionEvent, messageEvent, startEmulator } from '../test/emulator';
import { demoTransport } from './demo-transport';

const transport = demoTransport(process.argv.slice(2));
const secrets = { appId: 'cli_de0de0de0de0de0d', appSecret: 'demo-secret', verificationToken: 'demo-token', encryptKey: 'demo-encrypt-key' };
const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;

const emu = await startEmulator({ appId: secrets.appId, appSecret: secrets.appSecret });
const dir = await mkdtemp(join(tmpdir(), 'todo-demo-'));
const config = loadConfig(botEnv({ feishuDomain: emu.url, dataFile: join(dir, 'db.json'), logLevel: 'warn', secrets, extra: transport.env }));
const app = await startApp(config, { logger: createLogger('warn') });
await transport.ready(emu);
console.log(bold('Feishu emulator'), emu.url, dim('(the group oc_group: owner ou_owner, admin ou_admin, member ou_member)'));
console.log(bold('To-do bot      '), app.url, dim(`(data in ${config.dataFile})`));
console.log(bold('Pushes by      '), transport.label);

let seen = 0;
let events = 0;
function printFeishuSide() {
  for (const call of emu.calls.slice(seen)) console.log(`   ${dim('bot → Feishu')} ${describeCall(call)}`);
  seen = emu.calls.length;
}

function describeCall(call: RecordedCall): string {
  const ok = call.status === 200 && call.response?.code === 0 ? 'ok' : `failed ${call.status} ${call.response?.code ?? ''}`;
  const what = (() => {
    if (call.path.endsWith('tenant_access_token/internal')) return 'fetch tenant access token';
    if (call.path.startsWith('/open-apis/im/v1/chats/')) return 'look up the group admins';
    if (call.path === '/open-apis/ephemeral/v1/send') {
      const card = call.body.card;
      const notice = card?.body?.elements?.find((e: { tag: string }) => e.tag === 'div')?.text?.content;
      return `ephemeral card only ${call.body.open_id} sees: "${notice ?? card?.header?.title?.content}"`;
    }
    if (call.path === '/open-apis/ephemeral/v1/delete') return `delete ephemeral card ${call.body.message_id}`;
    if (call.path === '/open-apis/im/v2/app_feed_card') return `feed cards for ${call.body.user_ids.join(', ')}`;
    if (call.path === '/open-apis/im/v2/app_feed_card/batch') return `delete feed cards of ${call.body.feed_cards.map((c: { user_id: string }) => c.user_id).join(', ')}`;
    if (call.method === 'PATCH') return 'update the to-do card in place (now: done)';
    if (call.path === '/open-apis/im/v1/messages') return `post to the group: "${JSON.parse(call.body.content).config?.summary?.content ?? 'card'}"`;
    return `${call.method} ${call.path}`;
  })();
  return `${what} ${dim(`[${call.method} ${call.path} → ${ok}]`)}`;
}

async function say(sender: string, text: string) {
  console.log(`\n${bold(sender)} writes in the group: "${text}"`);
  const payload = messageEvent({
    token: secrets.verificationToken,
    senderId: sender,
    text: `@_user_1 ${text}`,
    mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
    eventId: `demo_${++events}`,
  });
  const answer = await transport.push(emu, `${app.url}/webhook/event`, payload, secrets.encryptKey);
  console.log(`   ${dim('Feishu → bot')} signed, encrypted message event → HTTP ${answer.status} in ${Math.round(answer.elapsedMs)} ms`);
  await app.settled();
  printFeishuSide();
}

async function click(operator: string, action: string, formId: string, formValue?: Record<string, unknown>) {
  const latestForm = [...emu.messages.values()].filter((m) => m.kind === 'ephemeral' && m.visibleTo === operator).at(-1);
  console.log(`\n${bold(operator)} clicks ${action === 'todo.submit' ? 'Submit' : 'Cancel'}${formValue ? ` with ${JSON.stringify(formValue)}` : ''}`);
  const payload = cardActionEvent({
    token: secrets.verificationToken,
    operatorId: operator,
    messageId: latestForm?.messageId ?? 'om_unknown',
    value: { action, formId },
    formValue,
    timezone: 'Asia/Shanghai',
    eventId: `demo_${++events}`,
  });
  const answer = await transport.push(emu, `${app.url}/webhook/card`, payload, secrets.encryptKey);
  console.log(`   ${dim('Feishu → bot')} card callback → HTTP ${answer.status} in ${Math.round(answer.elapsedMs)} ms, toast: ${JSON.stringify(answer.body?.toast)}`);
  await app.settled();
  printFeishuSide();
}

function formIdOf(owner: string): string {
  const form = [...emu.messages.values()].filter((m) => m.kind === 'ephemeral' && m.visibleTo === owner).at(-1);
  return JSON.stringify(form?.card).match(/"formId":"([^"]+)"/)?.[1] ?? '';
}

try {
  await say('ou_member', '/todo Order pizza');
  await say('ou_admin', '/todo Ship the release notes');
  const formId = formIdOf('ou_admin');
  await click('ou_admin', 'todo.submit', formId, { [FORM_FIELDS.text]: '' });
  const tomorrow = new Date(Date.now() + 24 * 3_600_000 + 8 * 3_600_000).toISOString().slice(0, 10);
  await click('ou_admin', 'todo.submit', formId, {
    [FORM_FIELDS.text]: 'Ship the release notes <at id=all></at>',
    [FORM_FIELDS.remindAt]: `${tomorrow} 09:00 +0800`,
    [FORM_FIELDS.assignees]: ['ou_alice', 'ou_bob'],
  });
  await say('ou_member', '/help');

  const card = [...emu.messages.values()].find((m) => m.kind === 'message');
  const todoId = JSON.stringify(card?.card).match(/"todoId":"([^"]+)"/)?.[1] ?? '';
  console.log(`\n${bold('ou_alice')} (an assignee) clicks Done on the group card`);
  const done = await transport.push(
    emu,
    `${app.url}/webhook/card`,
    cardActionEvent({ token: secrets.verificationToken, operatorId: 'ou_alice', messageId: card?.messageId ?? '', value: { action: 'todo.done', todoId }, eventId: `demo_${++events}` }),
    secrets.encryptKey,
  );
  console.log(`   ${dim('Feishu → bot')} card callback → HTTP ${done.status}, toast: ${JSON.stringify(done.body?.toast)}, answer carries the updated card`);
  await app.settled();
  printFeishuSide();

  const posted = [...emu.messages.values()].filter((m) => m.kind === 'message');
  console.log(`\n${bold('The group now shows')} ${posted.length} to-do card:`);
  console.log(`   ${posted[0]?.card?.header?.title?.content} [${posted[0]?.card?.header?.text_tag_list?.[0]?.text?.content}]`);
  for (const element of posted[0]?.card?.body?.elements ?? []) {
    if (element.tag === 'markdown') console.log(`   ${element.content.replaceAll('\n', '\n   ')}`);
  }
  console.log(dim('\n(user text is entity-escaped: the @all typed into the form is shown as text and mentions nobody)'));
} finally {
  await app.stop();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
}
