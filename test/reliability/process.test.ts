import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Emulator, cardActionEvent, messageEvent, startEmulator } from '../../emulator';
import { SECRETS, botEnv, formValues } from '../e2e/harness';
import {
  type BotProcess,
  dataFileLockIsFree,
  ensureStopped,
  feishuPush,
  figure,
  formIdOf,
  freePort,
  groupCards,
  spawnBot,
  tempDirs,
  visibleForms,
  waitFor,
  waitHealthy,
} from './support';

/** The real process, as `npm start` runs it: start-up, readiness, SIGTERM, state kept across a restart, bad config. */

let emu: Emulator | undefined;
let bot: BotProcess | undefined;
const tempDir = tempDirs('todo-process-');
afterAll(async () => {
  await ensureStopped(bot);
  await emu?.close();
});

function envFor(feishu: Emulator, port: number, dataFile: string): Record<string, string> {
  return botEnv({ feishuDomain: feishu.url, dataFile, port, logLevel: 'info' });
}

describe('the bot process', () => {
  it('starts, becomes ready, stops on SIGTERM with exit code 0, and keeps an open form across the restart', async () => {
    emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
    const feishu = emu;
    const dir = await tempDir();
    const dataFile = join(dir, 'data', 'db.json');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = envFor(feishu, port, dataFile);

    const first = spawnBot(env, { cwd: dir });
    bot = first;
    const startMs = await waitHealthy(url, first);
    // The line may reach this process's pipe a moment after /healthz answers.
    await waitFor(() => first.lines.some((line) => line.includes('to-do bot ready')), 'the "to-do bot ready" line');

    const open = messageEvent({
      token: SECRETS.verificationToken,
      senderId: 'ou_admin',
      text: '@_user_1 /todo Kept across restarts',
      mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
      eventId: 'ev_process_open',
    });
    expect((await feishuPush(`${url}/webhook/event`, open, SECRETS.encryptKey))?.status).toBe(200);
    const form = await waitFor(() => visibleForms(feishu, 'oc_group', 'ou_admin')[0], 'the form card');

    const stopStarted = performance.now();
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;
    const stopMs = performance.now() - stopStarted;
    expect(firstExit).toEqual({ code: 0, signal: null });
    expect(first.lines.some((line) => line.includes('to-do bot stopped'))).toBe(true);
    expect(await dataFileLockIsFree(dataFile)).toBe(true);

    const second = spawnBot(env, { cwd: dir });
    bot = second;
    const restartMs = await waitHealthy(url, second);
    const submit = cardActionEvent({
      token: SECRETS.verificationToken,
      operatorId: 'ou_admin',
      messageId: form.messageId,
      value: { action: 'todo.submit', formId: formIdOf(form) },
      formValue: formValues({ text: 'Kept across restarts' }),
      timezone: 'Asia/Shanghai',
      eventId: 'ev_process_submit',
    });
    const answer = await feishuPush(`${url}/webhook/card`, submit, SECRETS.encryptKey);
    expect(answer?.status).toBe(200);
    expect(answer?.body?.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    await waitFor(() => feishu.messages.get(form.messageId)?.deleted, 'the form card to be deleted');
    expect(groupCards(feishu)).toHaveLength(1);

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    figure(
      `process — node <test bundle>/main.js: /healthz 200 after ${Math.round(startMs)} ms on first start, ${Math.round(restartMs)} ms on restart; ` +
        `SIGTERM to exit 0 in ${Math.round(stopMs)} ms; a form opened before the restart submitted after it`,
    );
  }, 60_000);

  it('refuses to start without FEISHU_APP_SECRET: exit code 1, one line naming it and one its misspelling', async () => {
    emu ??= await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
    const feishu = emu;
    const cwd = await tempDir();
    const env = envFor(feishu, await freePort(), join(cwd, 'db.json'));
    // Misspelt, as a person might: named beside the missing one.
    env.FEISHU_APP_SECERT = env.FEISHU_APP_SECRET as string;
    delete env.FEISHU_APP_SECRET;
    const child = spawnBot(env, { cwd });
    bot = child;
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    const naming = child.lines.filter((line) => line.includes('FEISHU_APP_SECRET'));
    expect(naming).toHaveLength(2);
    expect(naming[0]).toMatch(/FEISHU_APP_SECRET is missing: .*App Secret/);
    expect(naming[1]).toBe('FEISHU_APP_SECERT is not a setting of the bot: did you mean FEISHU_APP_SECRET?');
    expect(child.lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
    expect(existsSync(join(cwd, 'db.json'))).toBe(false);
    figure(`process — missing FEISHU_APP_SECRET: exit code ${exit.code}, "${naming[0]?.trim()}"`);
  }, 30_000);

  it('over the long connection, stops when Feishu refuses the connection: exit code 1 and one line naming both settings', async () => {
    emu ??= await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
    const feishu = emu;
    // The credentials pass the start-up check; the connection's own endpoint refuses the app (as when the app's
    // secret was reset between the two calls, or the long connection is not enabled for it).
    feishu.fault({ path: '/callback/ws/endpoint', status: 200, body: { code: 1000040345, msg: 'app_id or app_secret is invalid', data: {} }, times: 1 });
    const cwd = await tempDir();
    const env: Record<string, string> = { ...envFor(feishu, await freePort(), join(cwd, 'db.json')), FEISHU_EVENTS: 'long-connection' };
    delete env.FEISHU_ENCRYPT_KEY;
    delete env.FEISHU_VERIFICATION_TOKEN;
    const child = spawnBot(env, { cwd });
    bot = child;
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    const naming = child.lines.filter((line) => line.includes('FEISHU_APP_SECRET'));
    expect(naming).toHaveLength(1);
    expect(naming[0]).toMatch(/^Could not open the long connection: Feishu refused it \(1000040345: .*\)\. Check FEISHU_APP_ID and FEISHU_APP_SECRET/);
    expect(child.lines.join('\n')).not.toContain(SECRETS.appSecret);
    expect(child.lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
    expect(await dataFileLockIsFree(join(cwd, 'db.json'))).toBe(true);
    figure(`process — long connection refused at start: exit code ${exit.code}, "${naming[0]?.trim()}"`);
  }, 30_000);
});
