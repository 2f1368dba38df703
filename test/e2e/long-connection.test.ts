import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cardActionEvent, messageEvent } from '../../emulator';
import { type RunningApp, startApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { ReceiverStartError } from '../../src/receivers/receiver';
import {
  type Harness,
  SECRETS,
  TestClock,
  botEnv,
  buttonValue,
  formCards,
  formValues,
  groupCards,
  noticesTo,
  openForm,
  pickerValueInHours,
  startHarness,
} from './harness';

/** The bot with FEISHU_EVENTS=long-connection: the SDK's WSClient dials the emulator's gateway; no push goes over HTTP. */

let h: Harness;
let clock: TestClock;
const cleanups: Array<() => Promise<void>> = [];

async function start(at = Date.UTC(2026, 10, 23, 2, 0)) {
  clock = new TestClock(at);
  h = await startHarness({ transport: 'long-connection', clock });
}
afterEach(async () => {
  await h.stop();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const HOUR = 3_600_000;
const healthz = async () => {
  const res = await fetch(`${h.app.url}/healthz`);
  return { status: res.status, body: (await res.json()) as any };
};

describe('the bot over the long connection', () => {
  it('runs the whole flow: form, validation toast, submit, final card, Done, reminder, /recall', async () => {
    await start();
    const form = await openForm(h, 'ou_admin', 'Renew the cert');
    expect(JSON.stringify(form.card)).toContain('Renew the cert');
    const submit = { action: 'todo.submit', formId: form.formId };

    const refused = await h.click('ou_admin', form.messageId, submit, { formValue: formValues({ text: '  ' }) });
    expect(refused.status).toBe(200);
    expect(refused.body.toast).toMatchObject({ type: 'error', content: expect.stringMatching(/write what/i) });

    const accepted = await h.click('ou_admin', form.messageId, submit, {
      formValue: formValues({ text: 'Renew the cert', remindAt: pickerValueInHours(2, clock.now()), assignees: ['ou_alice'] }),
    });
    expect(accepted.body.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    await h.settled();
    expect(h.emu.messages.get(form.messageId)?.deleted).toBe(true);
    const [card] = groupCards(h);
    expect(groupCards(h)).toHaveLength(1);
    expect(JSON.stringify(card?.card.body)).toContain('<at id=ou_alice></at>');

    await clock.advance(2 * HOUR);
    const reminders = [...h.emu.messages.values()].filter((m) => m.kind === 'reply' && m.parentId === card?.messageId);
    expect(reminders).toHaveLength(1);
    expect(JSON.stringify(reminders[0]?.card)).toContain('Renew the cert');

    const done = await h.click('ou_alice', card?.messageId as string, buttonValue(card?.card, 'todo.done'));
    expect(done.body.toast).toMatchObject({ type: 'success', content: 'Marked done.' });
    expect(JSON.stringify(done.body.card.data)).toContain('Done by');
    await h.settled();
    expect(JSON.stringify(h.emu.messages.get(card?.messageId as string)?.updates.at(-1))).toMatch(/Done by.*ou_alice/);

    await h.say('ou_admin', '/recall', { parentId: card?.messageId });
    await h.settled();
    expect(h.emu.messages.get(card?.messageId as string)?.recalled).toBe(true);
    expect(noticesTo(h, 'ou_admin').at(-1)).toMatch(/Recalled the to-do “Renew the cert”/);

    // Every push above went over the one connection, acked at the first delivery.
    expect(h.emu.connections).toHaveLength(1);
    expect(h.emu.connections[0]?.pushes).toBe(5);
  });

  it('serves /healthz with the connection state, and no webhook routes', async () => {
    await start();
    const health = await healthz();
    expect(health.status).toBe(200);
    expect(health.body.components.events).toEqual({ ok: true, transport: 'long-connection', state: 'open', since: expect.any(String), reconnects: 0 });
    const callsBefore = h.emu.calls.length;
    const push = await h.emu.push(`${h.app.url}/webhook/event`, messageEvent({ token: SECRETS.verificationToken, senderId: 'ou_admin', text: '/help' }), {
      encryptKey: SECRETS.encryptKey,
    });
    expect(push.status).toBe(404);
    // Nothing reached Feishu after the start-up check and the connection's endpoint call: the push did nothing.
    expect(h.emu.calls.slice(callsBefore)).toEqual([]);
  });

  it('joins a push split into fragments, and a submit split too', async () => {
    await start();
    const text = '季度复盘：整理各组的数据，周五前发给我。'.repeat(6);
    const payload = messageEvent({
      token: 'unused',
      senderId: 'ou_admin',
      text: `@_user_1 /todo ${text}`,
      mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
      appId: SECRETS.appId,
    });
    const result = await h.emu.pushOverConnection(payload, { fragments: 4 });
    expect(result.deliveries).toEqual([expect.objectContaining({ outcome: 'acked' })]);
    await h.settled();
    const form = formCards(h, 'ou_admin')[0];
    expect(JSON.stringify(form?.card)).toContain(text);
    const formId = buttonValue(form?.card, 'todo.submit').formId;
    const submit = cardActionEvent({
      token: 'unused',
      operatorId: 'ou_admin',
      messageId: form?.messageId as string,
      value: { action: 'todo.submit', formId },
      formValue: formValues({ text }),
      timezone: 'Asia/Shanghai',
      appId: SECRETS.appId,
    });
    const answer = await h.emu.pushOverConnection(submit, { fragments: 3 });
    expect(answer.answer.toast).toMatchObject({ type: 'success' });
    await h.settled();
    expect(JSON.stringify(groupCards(h)[0]?.card.body)).toContain(text.slice(0, 30));
  });

  it('loses nothing when the connection drops mid-flow: it reconnects and Feishu redelivers what was not acked', async () => {
    await start();
    const form = await openForm(h, 'ou_admin');
    h.emu.dropConnections();
    // Sent while the bot is reconnecting: the first delivery finds no connection, a redelivery finds the new one.
    const meanwhile = await h.say('ou_member', '/help');
    expect(meanwhile.status).toBe(200);
    expect(meanwhile.deliveries?.[0]?.outcome).toBe('no-connection');
    expect(meanwhile.deliveries?.at(-1)).toMatchObject({ outcome: 'acked', connectionId: h.emu.connections[1]?.id });
    await h.settled();
    expect(noticesTo(h, 'ou_member')).toHaveLength(1);

    const answer = await h.click(
      'ou_admin',
      form.messageId,
      { action: 'todo.submit', formId: form.formId },
      { formValue: formValues({ text: 'After the drop' }) },
    );
    expect(answer.body.toast).toMatchObject({ type: 'success' });
    await h.settled();
    expect(groupCards(h)).toHaveLength(1);
    expect(h.emu.connections).toHaveLength(2);
    expect(h.app.receiver.health()).toMatchObject({ state: 'open', reconnects: 1 });
    expect(h.logs.filter((line) => line.includes('"long connection lost; reconnecting"'))).toHaveLength(1);
    expect(h.logs.filter((line) => line.includes('"long connection restored"'))).toHaveLength(1);
  });

  it('takes a redelivered event once: an ack lost with the connection does not open a second form', async () => {
    await start();
    const payload = messageEvent({
      token: 'unused',
      senderId: 'ou_admin',
      text: '@_user_1 /todo Once',
      mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
      eventId: 'ev_redelivered',
      appId: SECRETS.appId,
    });
    const first = await h.emu.pushOverConnection(payload);
    h.emu.dropConnections();
    // Feishu never saw the ack (say): the same event again, on the next connection.
    await h.emu.awaitConnections(1);
    const again = await h.emu.pushOverConnection(payload);
    expect([first.delivered, again.delivered]).toEqual([true, true]);
    await h.settled();
    expect(formCards(h, 'ou_admin')).toHaveLength(1);
    expect(h.logs.filter((line) => line.includes('"duplicate delivery ignored"'))).toHaveLength(1);
  });

  it('shows a connection Feishu will not restore as failed: /healthz answers 503', async () => {
    await start();
    h.emu.fault({ path: '/callback/ws/endpoint', status: 200, body: { code: 1000040345, msg: 'app_id or app_secret is invalid', data: {} }, times: Infinity });
    h.emu.dropConnections();
    await expect.poll(() => h.app.receiver.health().state).toBe('failed');
    const health = await healthz();
    expect(health.status).toBe(503);
    expect(health.body.components.events).toMatchObject({ ok: false, transport: 'long-connection', state: 'failed' });
  });

  it('stops by closing the connection, for good', async () => {
    await start();
    await h.app.stop();
    await expect.poll(() => h.emu.connections[0]?.closedAt).toBeDefined();
    expect(h.app.receiver.health().state).toBe('closed');
    // Long enough for the SDK's reconnect (50 ms here) to have dialled again, had it wanted to.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.emu.connections).toHaveLength(1);
    expect(h.emu.calls.filter((call) => call.path === '/callback/ws/endpoint')).toHaveLength(1);
    // A second stop (a second SIGTERM, the harness's own) waits for the first rather than closing the store again.
    await h.app.stop();
    expect(h.logs.filter((line) => JSON.parse(line).msg === 'to-do bot stopped')).toHaveLength(1);
  });
});

describe('two instances, each on its own connection and data file', () => {
  it('gets each event to exactly one of them, which acts on it once', async () => {
    await start();
    const dir = await mkdtemp(join(tmpdir(), 'todo-e2e-second-'));
    const env = botEnv({ feishuDomain: h.emu.url, dataFile: join(dir, 'db.json'), extra: { FEISHU_EVENTS: 'long-connection' } });
    const second: RunningApp = await startApp(loadConfig(env), { logger: createLogger('silent') });
    cleanups.push(async () => {
      await second.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await h.emu.awaitConnections(2);
    const first = h.app;
    const ids = Array.from({ length: 20 }, (_, i) => `om_two_${i}`);
    // Each bot allows 10 commands per person per 10 s: spread them over two people.
    for (const [i, messageId] of ids.entries()) await h.say(i % 2 ? 'ou_member' : 'ou_alice', '/help', { messageId });
    await h.settled();
    await second.settled();

    // A commit naming a message's id is refused as a duplicate when that store has handled the message.
    const handled = async (app: RunningApp, eventId: string) => {
      const probe = await app.services.store.commit({ now: clock.now(), eventId });
      return !probe.ok && probe.reason === 'duplicate';
    };
    const handledBy = await Promise.all(ids.map(async (id) => [await handled(first, id), await handled(second, id)]));
    expect(handledBy.every(([a, b]) => a !== b)).toBe(true);
    expect(handledBy.filter(([a]) => a).length).toBeGreaterThan(0);
    expect(handledBy.filter(([, b]) => b).length).toBeGreaterThan(0);
    const helps = [...h.emu.messages.values()].filter((m) => m.kind === 'ephemeral' && (m.visibleTo === 'ou_member' || m.visibleTo === 'ou_alice'));
    expect(helps).toHaveLength(20);
  });
});

describe('start-up over the long connection', () => {
  it('stops with one sentence naming FEISHU_APP_ID and FEISHU_APP_SECRET when Feishu refuses the secret, and frees the data file', async () => {
    await start();
    const dir = await mkdtemp(join(tmpdir(), 'todo-e2e-refused-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const env = botEnv({ feishuDomain: h.emu.url, dataFile: join(dir, 'db.json'), extra: { FEISHU_EVENTS: 'long-connection' } });
    // A secret the token endpoint refuses is caught by the start-up check, before any connection is tried.
    const revoked = startApp(loadConfig({ ...env, FEISHU_APP_SECRET: 'revoked' }), { logger: createLogger('silent') });
    await expect(revoked).rejects.toThrow(/^Feishu refused the app's credentials \(code 10014.*FEISHU_APP_ID and FEISHU_APP_SECRET/);
    // The connection's own endpoint may refuse the app too (long connection not enabled for it, say): one line as well.
    h.emu.fault({ path: '/callback/ws/endpoint', status: 200, body: { code: 1000040345, msg: 'app_id or app_secret is invalid', data: {} }, times: 1 });
    const refused = startApp(loadConfig(env), { logger: createLogger('silent') });
    await expect(refused).rejects.toBeInstanceOf(ReceiverStartError);
    await expect(refused).rejects.toThrow(/^Could not open the long connection: Feishu refused it \(1000040345: .*FEISHU_APP_ID and FEISHU_APP_SECRET/);
    // Nothing holds the store: the same data file opens again once Feishu accepts the app.
    const fixed = await startApp(loadConfig(env), { logger: createLogger('silent') });
    await fixed.stop();
  });
});
