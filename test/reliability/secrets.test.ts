import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { messageEvent } from '../../emulator';
import { type Harness, SECRETS, formValues, startHarness } from '../e2e/harness';
import { type BotProcess, MESSAGES, TOKEN_PATH, ensureStopped, figure, formIdOf, spawnBot, tempDirs, visibleForms } from './support';

/**
 * No secret in any log line, at the most talkative level: the app secret, the encrypt key, the verification token
 * and every tenant access token Feishu issued, through a flow that makes the bot log as much as it ever does.
 */

let h: Harness | undefined;
let overConnection: Harness | undefined;
let child: BotProcess | undefined;
const tempDir = tempDirs('todo-secrets-');
afterAll(async () => {
  await h?.stop();
  await overConnection?.stop();
  await ensureStopped(child);
});

function leaksIn(lines: readonly string[], secrets: readonly string[]): string[] {
  return lines.filter((line) => secrets.some((secret) => line.includes(secret)));
}

describe('secrets', () => {
  it('appear in no log line at LOG_LEVEL=trace, through the whole flow and its failures', async () => {
    h = await startHarness({ env: { LOG_LEVEL: 'trace' } });
    const harness = h;
    const { emu } = harness;
    const openForm = async (text: string) => {
      await harness.say('ou_admin', `/todo ${text}`);
      await harness.settled();
      const form = visibleForms(emu, 'oc_group', 'ou_admin').at(-1);
      if (!form) throw new Error('no form');
      return { messageId: form.messageId, formId: formIdOf(form) as string };
    };
    const submit = (form: { messageId: string; formId: string }, text: string) =>
      harness.click('ou_admin', form.messageId, { action: 'todo.submit', formId: form.formId }, { formValue: formValues({ text }) });

    // Open and submit.
    const first = await openForm('First');
    expect((await submit(first, 'First')).body.toast.type).toBe('success');
    await harness.settled();

    // Open and cancel.
    const second = await openForm('Second');
    const cancelled = await harness.click('ou_admin', second.messageId, { action: 'todo.cancel', formId: second.formId });
    expect(cancelled.body.toast.content).toMatch(/Cancelled/);
    await harness.settled();

    // Refused pushes: a forged body, a wrong token.
    const forged = await emu.push(
      `${harness.app.url}/webhook/event`,
      messageEvent({ token: SECRETS.verificationToken, senderId: 'ou_admin', text: '/todo x' }),
      { encryptKey: SECRETS.encryptKey, tamper: (body) => body.replace('"}', 'x"}') },
    );
    expect(forged.status).toBe(401);
    const wrongToken = await emu.push(`${harness.app.url}/webhook/event`, messageEvent({ token: 'forged', senderId: 'ou_admin', text: '/todo x' }), {
      encryptKey: SECRETS.encryptKey,
    });
    expect(wrongToken.status).toBe(401);

    // A Feishu failure the retries cure, and one they do not.
    const third = await openForm('Third');
    emu.fault({ method: 'POST', path: MESSAGES, status: 500, times: 2 });
    emu.fault({ method: 'POST', path: MESSAGES, drop: true });
    await submit(third, 'Third');
    await harness.settled();
    const fourth = await openForm('Fourth');
    emu.fault({ method: 'POST', path: MESSAGES, code: 230002, msg: 'Bot is not in the chat' });
    await submit(fourth, 'Fourth');
    await harness.settled();

    // A token Feishu stops accepting: the bot fetches a new one.
    emu.revokeTokens();
    await openForm('Fifth');
    await harness.settled();

    const tokens = emu
      .callsTo('POST', TOKEN_PATH)
      .map((call) => call.response?.tenant_access_token as string | undefined)
      .filter((token): token is string => typeof token === 'string' && token.length > 0);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(emu.callsTo('POST', MESSAGES).filter((c) => c.status !== 200 || c.response?.code !== 0).length).toBe(4);

    // The log really is talkative: trace and debug lines, warnings about Feishu, the refused pushes.
    const { logs } = harness;
    expect(logs.some((line) => line.includes('"level":20'))).toBe(true);
    expect(logs.some((line) => line.includes('feishu call failed'))).toBe(true);
    expect(logs.some((line) => line.includes('request refused'))).toBe(true);

    const secrets = [SECRETS.appSecret, SECRETS.encryptKey, SECRETS.verificationToken, ...tokens];
    expect(leaksIn(logs, secrets)).toEqual([]);
    expect(leaksIn(logs, ['Bearer '])).toEqual([]);
    figure(
      `secrets — ${logs.length} log lines at LOG_LEVEL=trace (open, submit, cancel, 2 refused pushes, 500/drop retried, ` +
        `230002 refused, token revoked and refetched): 0 contain the app secret, encrypt key, verification token ` +
        `or any of the ${tokens.length} tenant access tokens issued`,
    );
  }, 30_000);

  it('appear in no log line over the long connection either: nor the access key and ticket of its WebSocket URLs', async () => {
    overConnection = await startHarness({ transport: 'long-connection', env: { LOG_LEVEL: 'trace' } });
    const harness = overConnection;
    const { emu } = harness;
    await harness.say('ou_admin', '/todo Over the connection');
    await harness.settled();
    const form = visibleForms(emu, 'oc_group', 'ou_admin').at(-1);
    if (!form) throw new Error('no form');
    emu.dropConnections();
    await emu.awaitConnections(1);
    const answer = await harness.click(
      'ou_admin',
      form.messageId,
      { action: 'todo.submit', formId: formIdOf(form) as string },
      { formValue: formValues({ text: 'Over the connection' }) },
    );
    expect(answer.body.toast.type).toBe('success');
    await harness.settled();

    const urls = emu.callsTo('POST', '/callback/ws/endpoint').map((call) => new URL(call.response?.data?.URL as string));
    expect(urls).toHaveLength(2);
    const urlSecrets = urls.flatMap((url) => [url.searchParams.get('access_key'), url.searchParams.get('ticket')]).filter((v): v is string => !!v);
    // Two URLs, each with its access key and ticket: one missing here would go unlooked-for in the leak check below.
    expect(urlSecrets).toHaveLength(4);
    const tokens = emu
      .callsTo('POST', TOKEN_PATH)
      .map((call) => call.response?.tenant_access_token as string)
      .filter(Boolean);
    const { logs } = harness;
    // The SDK's own lines came through, the one with the WebSocket URL among them.
    expect(logs.some((line) => line.includes('ws url: ws://127.0.0.1'))).toBe(true);
    expect(leaksIn(logs, [SECRETS.appSecret, ...urlSecrets, ...tokens])).toEqual([]);
    figure(
      `secrets — ${logs.length} log lines at LOG_LEVEL=trace over the long connection (open, drop, reconnect, submit): ` +
        `0 contain the app secret, any of the ${urlSecrets.length} access keys and tickets of its URLs, or a tenant token`,
    );
  }, 30_000);

  it('a start-up refused for a missing variable names it and leaks no secret (as npm start runs it)', async () => {
    const cwd = await tempDir();
    child = spawnBot(
      {
        FEISHU_APP_ID: SECRETS.appId,
        FEISHU_APP_SECRET: SECRETS.appSecret,
        FEISHU_VERIFICATION_TOKEN: SECRETS.verificationToken,
        LOG_LEVEL: 'trace',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_FILE: join(cwd, 'db.json'),
      },
      { cwd },
    );
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    const naming = child.lines.filter((line) => line.includes('FEISHU_ENCRYPT_KEY'));
    expect(naming).toHaveLength(1);
    expect(naming[0]).toMatch(/FEISHU_ENCRYPT_KEY is missing/);
    expect(leaksIn(child.lines, [SECRETS.appSecret, SECRETS.verificationToken])).toEqual([]);
    figure(
      `secrets — missing FEISHU_ENCRYPT_KEY, the bot bundled as for npm start: exit ${exit.code}, "${naming[0]?.trim()}", no secret in its ${child.lines.length} output lines`,
    );
  }, 30_000);
});
