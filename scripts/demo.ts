/**
 * `npm run demo`: a to-do's whole life, offline, with no credentials. Starts the in-repo Feishu emulator and the real
 * bot on loopback, plays a group chat against them, and shows each card as the people in the chat would see it:
 * a refused /todo, the form, a refused and an accepted Submit, /todos, the reminder, Snooze, Done, /recall.
 * The bot's clock is moved to the reminder's time instead of waiting for it. Colour only on a terminal without
 * NO_COLOR. `npm run demo -- --long-connection` plays the same over Feishu's long connection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatedMessage, cardActionEvent, messageEvent, startEmulator } from '../emulator';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { FORM_FIELDS } from '../src/domain/todo-form';
import { createLogger } from '../src/log';
import { botEnv } from '../test/bot-env';
import { cardToText, styleFor } from './card-text';
import { demoTransport } from './demo-transport';

const transport = demoTransport(process.argv.slice(2));
// The SDK's WSClient accepts only App IDs shaped like Feishu's: cli_ and 16 hex digits.
const secrets = { appId: 'cli_de0de0de0de0de0d', appSecret: 'demo-secret', verificationToken: 'demo-token', encryptKey: 'demo-encrypt-key' };
const style = styleFor(process.stdout, process.env);
const NAMES: Record<string, string> = {
  ou_owner: 'Olga (owner)',
  ou_admin: 'Ada (admin)',
  ou_member: 'Max',
  ou_alice: 'Alice',
  ou_bob: 'Bob',
  ou_bot: 'To-do Bot',
};
const nameOf = (openId: string) => NAMES[openId] ?? openId;
const HOUR = 3_600_000;

// 08:00 in Shanghai today, so that "tomorrow 09:00" is a day and an hour away.
let clock = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 0, 0);
const emu = await startEmulator({ appId: secrets.appId, appSecret: secrets.appSecret });
const dir = await mkdtemp(join(tmpdir(), 'todo-demo-'));
const config = loadConfig(botEnv({ feishuDomain: emu.url, dataFile: join(dir, 'db.json'), logLevel: 'warn', secrets, extra: transport.env }));
const app = await startApp(config, { logger: createLogger('warn'), now: () => clock });
await transport.ready(emu);
const say = (line = '') => console.log(line);
say(`${style.bold('Feishu emulator')} ${emu.url} ${style.dim('(group oc_group: Olga owns it, Ada is an admin, Max, Alice and Bob are members)')}`);
say(`${style.bold('To-do bot')}       ${app.url} ${style.dim(`(data in ${config.dataFile})`)}`);
say(`${style.bold('Pushes by')}       ${transport.label}`);

/** What each message looked like when last shown, so each step shows only what changed. */
const shown = new Map<string, { updates: number; deleted: boolean; recalled: boolean }>();
let callsSeen = emu.calls.length;
let events = 0;

function showCard(m: EmulatedMessage, heading: string) {
  say(`  ${heading}`);
  for (const line of cardToText(m.card, { name: nameOf, style })) say(`    ${line}`);
}

/** Prints what the people in the chat now see that they did not before, then the calls that made it so. */
async function showChanges() {
  await app.settled();
  for (const m of emu.messages.values()) {
    const before = shown.get(m.messageId);
    const audience = m.kind === 'ephemeral' ? `only ${nameOf(m.visibleTo ?? '?')} sees` : m.kind === 'reply' ? 'the group sees, as a reply' : 'the group sees';
    if (!before) showCard(m, `${audience}:`);
    else if (m.updates.length > before.updates) showCard(m, 'the card in the group now reads:');
    if (m.deleted && !before?.deleted) say(`  ${style.dim(`(${nameOf(m.visibleTo ?? '?')}'s card ${m.card?.header?.title?.content ?? ''} disappears)`)}`);
    if (m.recalled && !before?.recalled) say(`  the card "${m.card?.header?.title?.content ?? ''}" is withdrawn from the group`);
    shown.set(m.messageId, { updates: m.updates.length, deleted: m.deleted, recalled: m.recalled });
  }
  const calls = emu.calls
    .slice(callsSeen)
    .map(
      (call) =>
        `${call.method} ${call.path.replace('/open-apis', '')} ${call.status === 200 && call.response?.code === 0 ? 'ok' : `→ ${call.response?.code ?? call.status}`}`,
    );
  callsSeen = emu.calls.length;
  if (calls.length > 0) say(`  ${style.dim(`bot → Feishu: ${calls.join(', ')}`)}`);
}

async function message(sender: string, text: string, parentId?: string) {
  say(`\n${style.bold(nameOf(sender))} writes${parentId ? ' (as a reply to the to-do card)' : ''}: "@To-do Bot ${text}"`);
  const payload = messageEvent({
    token: secrets.verificationToken,
    senderId: sender,
    text: `@_user_1 ${text}`,
    mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
    eventId: `demo_${++events}`,
    parentId,
  });
  const answer = await transport.push(emu, `${app.url}/webhook/event`, payload, { encryptKey: secrets.encryptKey, timestamp: Math.floor(clock / 1000) });
  say(`  ${style.dim(`Feishu → bot: the message event ${transport.delivery}, answered ${answer.status}`)}`);
  await showChanges();
}

async function click(operator: string, button: string, on: EmulatedMessage, value: Record<string, unknown>, formValue?: Record<string, unknown>) {
  const filled = formValue ? ` after filling in ${JSON.stringify(Object.values(formValue).filter((v) => v !== ''))}` : '';
  say(`\n${style.bold(nameOf(operator))} clicks [${button}]${filled}`);
  const payload = cardActionEvent({
    token: secrets.verificationToken,
    operatorId: operator,
    messageId: on.messageId,
    value,
    formValue,
    timezone: 'Asia/Shanghai',
    eventId: `demo_${++events}`,
  });
  const answer = await transport.push(emu, `${app.url}/webhook/card`, payload, { encryptKey: secrets.encryptKey, timestamp: Math.floor(clock / 1000) });
  const toast = answer.body?.toast as { type: string; content: string } | undefined;
  if (toast) say(`  ${nameOf(operator)} sees ${toast.type === 'error' || toast.type === 'info' ? 'an' : 'a'} ${toast.type} toast: "${toast.content}"`);
  // A reminder is answered with its new look; the group's to-do card changes through a PATCH, shown below.
  if (answer.body?.card?.data && on.kind === 'reply') showCard({ ...on, card: answer.body.card.data }, 'the reminder now reads:');
  await showChanges();
}

async function moveClockTo(at: number, why: string) {
  clock = at;
  say(`\n${style.dim(`… the bot's clock moves to ${new Date(at).toISOString().replace('T', ' ').slice(0, 16)} UTC (${why})`)}`);
  app.wake();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await showChanges();
}

const latest = (kind: EmulatedMessage['kind'], title: string) =>
  [...emu.messages.values()].filter((m) => m.kind === kind && m.card?.header?.title?.content === title).at(-1) as EmulatedMessage;
const cardValue = (m: EmulatedMessage, key: string) => new RegExp(`"${key}":"([^"]+)"`).exec(JSON.stringify(m.card))?.[1] ?? '';

try {
  await message('ou_member', '/todo Order pizza');
  await message('ou_admin', '/todo Ship the release notes');
  const form = latest('ephemeral', 'New to-do');
  const formId = cardValue(form, 'formId');
  await click('ou_admin', 'Submit', form, { action: 'todo.submit', formId }, { [FORM_FIELDS.text]: '' });

  const tomorrow = new Date(clock + 24 * HOUR).toISOString().slice(0, 10);
  const remindAt = Date.parse(`${tomorrow}T09:00:00+08:00`);
  await click(
    'ou_admin',
    'Submit',
    form,
    { action: 'todo.submit', formId },
    {
      [FORM_FIELDS.text]: 'Ship the release notes <at id=all></at> (v2.1: see #42)',
      [FORM_FIELDS.remindAt]: `${tomorrow} 09:00 +0800`,
      [FORM_FIELDS.assignees]: ['ou_alice', 'ou_bob'],
    },
  );
  say(style.dim('  (the @all typed into the form shows as text and mentions nobody; Alice and Bob each get an app feed card)'));
  const todoCard = latest('message', 'To-do');
  const todoId = cardValue(todoCard, 'todoId');

  await message('ou_alice', '/todos');
  await moveClockTo(remindAt, 'the reminder is due');
  const reminder = latest('reply', 'Reminder');
  await click('ou_bob', 'Snooze 1 h', reminder, { action: 'todo.snooze', todoId });
  await moveClockTo(remindAt + HOUR, 'the snooze is over');
  await click('ou_alice', 'Done', latest('reply', 'Reminder'), { action: 'todo.done', todoId });
  await message('ou_admin', '/recall', todoCard.messageId);
} finally {
  await app.stop();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
}
