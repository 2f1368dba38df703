import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, cardActionEvent, messageEvent, startEmulator } from '../../emulator';
import type { FeishuEvent } from '../../src/feishu/events';
import { createLogger } from '../../src/log';
import { LongConnectionReceiver } from '../../src/receivers/long-connection';
import { type Receive, ReceiverStartError } from '../../src/receivers/receiver';
import { SECRETS } from '../bot-env';
import { FAST_LONG_CONNECTION } from './harness';

/**
 * The long-connection receiver alone: the SDK's real WSClient inside it, the emulator's gateway on the other side,
 * and a `receive` the test controls, so that throws, slow answers and refusals can be staged.
 */

let emu: Emulator;
let receiver: LongConnectionReceiver | undefined;
let logs: string[] = [];

async function start(
  receive: Receive,
  secrets = SECRETS,
  options: { startWaitMs?: number; retryFailedAfterMs?: number; clickAnswerMs?: number; beforeStart?: (emu: Emulator) => void } = {},
) {
  emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, longConnection: FAST_LONG_CONNECTION });
  options.beforeStart?.(emu);
  logs = [];
  receiver = new LongConnectionReceiver({
    appId: secrets.appId,
    appSecret: secrets.appSecret,
    domain: emu.url,
    logger: createLogger('debug', { write: (line: string) => void logs.push(line) }),
    receive,
    pushLimitBytes: 512 * 1024,
    budgetBytes: 16 * 1024 * 1024,
    ...(options.startWaitMs !== undefined && { startWaitMs: options.startWaitMs }),
    ...(options.retryFailedAfterMs !== undefined && { retryFailedAfterMs: options.retryFailedAfterMs }),
    ...(options.clickAnswerMs !== undefined && { clickAnswerMs: options.clickAnswerMs }),
  });
  return receiver.start();
}

afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  await emu.close();
});

const message = (eventId: string) => messageEvent({ token: 'unused', senderId: 'ou_admin', text: '/help', eventId, appId: SECRETS.appId });
const click = (eventId: string) =>
  cardActionEvent({ token: 'unused', operatorId: 'ou_admin', messageId: 'om_1', value: { action: 'todo.done' }, eventId, appId: SECRETS.appId });
const logged = (msg: string) => logs.map((line) => JSON.parse(line)).filter((line) => line.msg === msg);

describe('the long-connection receiver', () => {
  it('resolves start once the connection is open, and reports it', async () => {
    await start(async () => ({}));
    expect(receiver?.health()).toMatchObject({ transport: 'long-connection', state: 'open', reconnects: 0 });
    expect(logged('long connection open')).toHaveLength(1);
  });

  it('hands each push to receive as a typed event and returns its answer in the ack', async () => {
    const received: FeishuEvent[] = [];
    await start(async (event) => {
      received.push(event);
      return event.type === 'card_action' ? { toast: { type: 'success', content: 'Marked done.' } } : {};
    });
    await emu.awaitConnections(1);
    expect((await emu.pushOverConnection(message('ev_m'))).deliveries[0]).toMatchObject({ outcome: 'acked', code: 200 });
    const answer = await emu.pushOverConnection(click('ev_c'));
    expect(answer.answer).toEqual({ toast: { type: 'success', content: 'Marked done.' } });
    expect(received.map((e) => [e.type, e.eventId])).toEqual([
      ['message', 'ev_m'],
      ['card_action', 'ev_c'],
    ]);
  });

  // `receive` may answer at once, so it may also throw at once instead of rejecting.
  const failures: Array<[string, (error: Error) => never | Promise<never>]> = [
    ['rejects', (error) => Promise.reject(error)],
    [
      'throws at once',
      (error) => {
        throw error;
      },
    ],
  ];
  it.each(failures)('survives a receive that %s: the ack says 500, Feishu redelivers the event, the connection stays', async (_how, fail) => {
    let throws = 1;
    await start(() => (throws-- > 0 ? fail(new Error('store unavailable')) : {}));
    await emu.awaitConnections(1);
    const result = await emu.pushOverConnection(message('ev_throw'));
    expect(result.deliveries.map((d) => [d.outcome, d.code])).toEqual([
      ['refused', 500],
      ['acked', 200],
    ]);
    expect(new Set(result.deliveries.map((d) => d.connectionId)).size).toBe(1);
    expect(logged('push failed')[0]).toMatchObject({ eventId: 'ev_throw', err: { message: 'store unavailable' } });
    expect(receiver?.health().state).toBe('open');
  });

  it('acknowledges a push that is not an event it understands, so Feishu does not redeliver it in vain', async () => {
    const received: FeishuEvent[] = [];
    await start(async (event) => {
      received.push(event);
      return {};
    });
    await emu.awaitConnections(1);
    const result = await emu.pushOverConnection({ schema: '2.0', header: { event_type: 'im.message.receive_v1' } });
    expect(result.deliveries.map((d) => d.outcome)).toEqual(['acked']);
    expect(received).toEqual([]);
    expect(logged('push refused: unrecognised event')).toHaveLength(1);
  });

  it('on stop answers the pushes in hand, then closes the connection and does not reconnect', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const handling = new Promise<void>((resolve) => {
      entered = resolve;
    });
    await start(async () => {
      entered();
      await held;
      return { toast: { type: 'info', content: 'late but answered' } };
    });
    await emu.awaitConnections(1);
    const push = emu.pushOverConnection(click('ev_in_hand'));
    await handling;
    const stopped = receiver?.stop();
    expect(emu.connections[0]?.closedAt).toBeUndefined();
    release();
    expect((await push).answer).toEqual({ toast: { type: 'info', content: 'late but answered' } });
    await stopped;
    await expect.poll(() => emu.connections[0]?.closedAt).toBeDefined();
    expect(receiver?.health().state).toBe('closed');
    receiver = undefined;
    expect(emu.connections).toHaveLength(1);
  });

  it('while stopping, leaves new events for Feishu to deliver again and takes only clicks it can answer before closing', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const received: string[] = [];
    // Clicks take at most 2 s to answer here; the drain lasts Feishu's 3 s.
    await start(
      async (event) => {
        received.push(event.eventId);
        if (event.eventId === 'ev_in_hand') await held;
        return {};
      },
      SECRETS,
      { clickAnswerMs: 2_000 },
    );
    await emu.awaitConnections(1);
    const inHand = emu.pushOverConnection(click('ev_in_hand'));
    await expect.poll(() => received).toEqual(['ev_in_hand']);
    const stopped = receiver?.stop();
    const event = await emu.pushOverConnection(message('ev_while_stopping'));
    expect(event.deliveries[0]).toMatchObject({ outcome: 'refused', code: 500 });
    expect((await emu.pushOverConnection(click('ev_click_in_time'))).deliveries[0]?.outcome).toBe('acked');
    expect(received).toEqual(['ev_in_hand', 'ev_click_in_time']);
    // Past the last moment a click could still be answered before the close (3 s - 2 s): refused, not cut off.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await emu.pushOverConnection(click('ev_click_too_late'))).deliveries[0]).toMatchObject({ outcome: 'refused', code: 500 });
    expect(received).toEqual(['ev_in_hand', 'ev_click_in_time']);
    expect(logged('push left for Feishu to deliver again: stopping').length).toBeGreaterThanOrEqual(2);
    release();
    expect((await inHand).deliveries[0]?.outcome).toBe('acked');
    await stopped;
    receiver = undefined;
  });

  it('logs a lost connection and its restoration, and counts the reconnect', async () => {
    await start(async () => ({}));
    await emu.awaitConnections(1);
    emu.dropConnections();
    await expect.poll(() => logged('long connection restored')).toHaveLength(1);
    expect(logged('long connection lost; reconnecting')).toHaveLength(1);
    expect(receiver?.health()).toMatchObject({ state: 'open', reconnects: 1 });
    expect(emu.connections).toHaveLength(2);
  });

  it('turns a reconnect Feishu refuses into the failed state, and tries again later, waiting longer each time', async () => {
    await start(async () => ({}), SECRETS, { retryFailedAfterMs: 300 });
    await emu.awaitConnections(1);
    emu.fault({ path: '/callback/ws/endpoint', status: 200, body: { code: 1000040345, msg: 'app_id or app_secret is invalid', data: {} }, times: 2 });
    emu.dropConnections();
    await expect.poll(() => receiver?.health().state).toBe('failed');
    const failures = () => logged('long connection failed; trying again later');
    expect(failures()[0]?.err?.message).toContain('1000040345');
    // Refused again on the first try (300 ms), then open on the second (600 ms later): a reconnect, counted.
    await expect.poll(() => failures().map((line) => line.retryInMs), { timeout: 5_000 }).toEqual([300, 600]);
    await expect.poll(() => receiver?.health(), { timeout: 5_000 }).toMatchObject({ state: 'open', reconnects: 1 });
    expect(logged('long connection restored')).toHaveLength(1);
    // Down from the loss, through both waits: not from the last refusal.
    expect(logged('long connection restored')[0]?.downMs).toBeGreaterThanOrEqual(900);
    expect(emu.connections).toHaveLength(2);
  });

  /** An open connection dropped, and its first reconnect answered "system busy" (code 1), which the SDK gives up on. */
  async function refusedOnceAsBusy(retryFailedAfterMs: number): Promise<void> {
    await start(async () => ({}), SECRETS, { retryFailedAfterMs });
    await emu.awaitConnections(1);
    emu.fault({ path: '/callback/ws/endpoint', status: 200, body: { code: 1, msg: 'system busy', data: {} }, times: 1 });
    emu.dropConnections();
  }

  it('tries again after "system busy" (code 1), which the SDK gives up on', async () => {
    await refusedOnceAsBusy(100);
    await expect.poll(() => receiver?.health(), { timeout: 5_000 }).toMatchObject({ state: 'open', reconnects: 1 });
    expect(logged('long connection failed; trying again later')).toHaveLength(1);
  });

  it('stops trying again once stopped', async () => {
    await refusedOnceAsBusy(200);
    await expect.poll(() => receiver?.health().state).toBe('failed');
    await receiver?.stop();
    receiver = undefined;
    const endpointCalls = emu.calls.filter((call) => call.path === '/callback/ws/endpoint').length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(emu.calls.filter((call) => call.path === '/callback/ws/endpoint')).toHaveLength(endpointCalls);
    expect(emu.connections).toHaveLength(1);
  });

  it('rejects start with one sentence naming both settings when Feishu refuses the App Secret', async () => {
    const refused = start(async () => ({}), { ...SECRETS, appSecret: 'not-the-secret' });
    await expect(refused).rejects.toBeInstanceOf(ReceiverStartError);
    const message = (await refused.catch((error: Error) => error.message)) as string;
    expect(message).toMatch(/Feishu refused it \(1000040345: app_id or app_secret is invalid\)/);
    expect(message).toMatch(/FEISHU_APP_ID and FEISHU_APP_SECRET/);
    expect(message).not.toContain('not-the-secret');
    expect(message).not.toContain('\n');
    expect(receiver?.health().state).toBe('failed');
    expect(emu.connections).toHaveLength(0);
  });

  it('rejects start, instead of waiting forever, for an App ID the SDK will not take', async () => {
    const refused = start(async () => ({}), { ...SECRETS, appId: 'cli_test_app' });
    await expect(refused).rejects.toThrow(/FEISHU_APP_ID .* cli_ and 16 hex digits/);
    expect(emu.calls.filter((call) => call.path === '/callback/ws/endpoint')).toHaveLength(0);
  });

  it('starts anyway when Feishu does not answer, still connecting, and opens once Feishu does', async () => {
    let release: (() => void) | undefined;
    await start(async () => ({}), SECRETS, { startWaitMs: 200, beforeStart: (feishu) => (release = feishu.hold({ path: '/callback/ws/endpoint' })) });
    expect(receiver?.health().state).toBe('connecting');
    expect(logged('long connection not open yet: starting anyway, still connecting (see /healthz)')).toHaveLength(1);
    release?.();
    await expect.poll(() => receiver?.health().state).toBe('open');
  });
});
