import * as lark from '@larksuiteoapi/node-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Emulator, type EmulatorOptions, cardActionEvent, messageEvent, startEmulator } from '../../emulator/index';

/** The SDK's WSClient refuses app ids that are not `cli_` and 16 hex digits, so these tests use a realistic one. */
const APP = { appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 'test-app-secret' };
const FAST = { reconnectIntervalSeconds: 0.02, reconnectNonceSeconds: 0, redeliveryDelaysMs: [20, 40, 80] };
const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, trace: () => undefined };

let emu: Emulator;
const clients: lark.WSClient[] = [];

async function start(opts: EmulatorOptions = {}) {
  emu = await startEmulator({ ...APP, ...opts, longConnection: { ...FAST, ...opts.longConnection } });
}

interface Client {
  client: lark.WSClient;
  seen: Array<{ data: unknown; options: unknown }>;
  lifecycle: string[];
  failure: Promise<Error>;
}

/** The real, unmodified `WSClient`, handed a plain object with `invoke`, as the bot hands it one. */
function connect(handler: (data: any) => unknown = () => ({}), secret = APP.appSecret): Client {
  const seen: Client['seen'] = [];
  const lifecycle: string[] = [];
  let fail: (error: Error) => void = () => undefined;
  const failure = new Promise<Error>((resolve) => {
    fail = resolve;
  });
  const client = new lark.WSClient({
    appId: APP.appId,
    appSecret: secret,
    domain: emu.url,
    logger: quiet,
    loggerLevel: lark.LoggerLevel.error,
    onReady: () => lifecycle.push('ready'),
    onReconnecting: () => lifecycle.push('reconnecting'),
    onReconnected: () => lifecycle.push('reconnected'),
    onError: (error) => fail(error),
  });
  clients.push(client);
  const dispatcher = {
    invoke: async (data: unknown, options: unknown) => {
      seen.push({ data, options });
      return handler(data);
    },
  };
  void client.start({ eventDispatcher: dispatcher as unknown as lark.EventDispatcher });
  return { client, seen, lifecycle, failure };
}

const message = (eventId: string, text = '/todo buy milk') => messageEvent({ token: 'vt', senderId: 'ou_admin', text, eventId, appId: APP.appId });
const click = (eventId: string) =>
  cardActionEvent({ token: 'vt', operatorId: 'ou_admin', messageId: 'om_1', value: { action: 'todo.done' }, eventId, appId: APP.appId });

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close({ force: true });
  await emu.close();
});

describe('the endpoint call', () => {
  const endpoint = (body: object) =>
    fetch(`${emu.url}/callback/ws/endpoint`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
      async (res) => ({ status: res.status, body: (await res.json()) as any }),
    );

  it('answers the WebSocket URL and the ClientConfig, in seconds', async () => {
    const { status, body } = await endpoint({ AppID: APP.appId, AppSecret: APP.appSecret });
    expect(status).toBe(200);
    expect(body.code).toBe(0);
    expect(body.data.ClientConfig).toEqual({ ReconnectCount: -1, ReconnectInterval: 0.02, ReconnectNonce: 0, PingInterval: 120 });
    expect(body.data.URL).toMatch(
      /^ws:\/\/127\.0\.0\.1:\d+\/ws\/v2\?fpid=\d+&aid=\d+&device_id=\d{19}&access_key=[0-9a-f]{32}&service_id=33554678&ticket=[0-9a-f-]{36}$/,
    );
  });

  it('refuses a wrong secret with HTTP 200, code 1000040345 and an empty data object', async () => {
    const { status, body } = await endpoint({ AppID: APP.appId, AppSecret: 'wrong' });
    expect(status).toBe(200);
    expect(body).toEqual({ code: 1000040345, msg: 'app_id or app_secret is invalid', data: {} });
  });

  it('admits each ticket to one handshake only', async () => {
    const { body } = await endpoint({ AppID: APP.appId, AppSecret: APP.appSecret });
    const handshake = (url: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(url);
        socket.on('open', () => {
          socket.terminate();
          resolve('open');
        });
        socket.on('unexpected-response', (_req, res) => {
          resolve(`refused ${res.headers['handshake-status']}`);
          socket.terminate();
        });
        socket.on('error', () => undefined);
      });
    expect(await handshake(body.data.URL)).toBe('open');
    expect(await handshake(body.data.URL)).toBe('refused 403');
  });
});

describe("the SDK's WSClient against the gateway", () => {
  it('connects, pings, and gets pongs', async () => {
    const { lifecycle } = connect();
    await emu.awaitConnections(1);
    expect(emu.connections).toHaveLength(1);
    expect(emu.connections[0]?.pings).toBeGreaterThanOrEqual(1);
    // The SDK parses the whole URL as a query string; `service_id`, not the first key, is what its frames carry.
    expect(emu.connections[0]?.service).toBe(33554678);
    expect(emu.connections[0]?.badFrames).toBeUndefined();
    await expect.poll(() => lifecycle).toEqual(['ready']);
  });

  it('hands the parsed envelope to invoke with needCheck false and acks with code 200', async () => {
    const { seen } = connect();
    await emu.awaitConnections(1);
    const payload = message('ev_1');
    const result = await emu.pushOverConnection(payload);
    expect(result.delivered).toBe(true);
    expect(result.deliveries).toEqual([expect.objectContaining({ outcome: 'acked', code: 200, connectionId: emu.connections[0]?.id })]);
    expect(seen).toEqual([{ data: payload, options: { needCheck: false } }]);
    expect(result.answer).toEqual({});
  });

  it("returns a callback's answer from the ack: the toast and the card", async () => {
    const answer = { toast: { type: 'success', content: 'Done' }, card: { type: 'raw', data: { schema: '2.0', body: { elements: [] } } } };
    connect(() => answer);
    await emu.awaitConnections(1);
    const result = await emu.pushOverConnection(click('ev_card'));
    expect(result.answer).toEqual(answer);
  });

  it('splits a payload into fragments at byte offsets, which the SDK joins before parsing', async () => {
    const { seen } = connect();
    await emu.awaitConnections(1);
    const payload = message('ev_frag', `/todo ${'写周报，'.repeat(40)}`);
    const result = await emu.pushOverConnection(payload, { fragments: 7 });
    expect(result.delivered).toBe(true);
    expect(seen.map((s) => s.data)).toEqual([payload]);
  });

  it('redelivers an event whose handler threw (ack code 500), but never a callback', async () => {
    let calls = 0;
    const { seen } = connect(() => {
      calls++;
      if (calls === 1) throw new Error('store unavailable');
      return {};
    });
    await emu.awaitConnections(1);
    const event = await emu.pushOverConnection(message('ev_retry'));
    expect(event.deliveries.map((d) => [d.outcome, d.code])).toEqual([
      ['refused', 500],
      ['acked', 200],
    ]);
    calls = 0;
    const callback = await emu.pushOverConnection(click('ev_click'));
    expect(callback.delivered).toBe(false);
    expect(callback.deliveries.map((d) => d.outcome)).toEqual(['refused']);
    expect(seen).toHaveLength(3);
  });

  it('reconnects by itself after a dropped connection, and an event in flight is redelivered on the new one', async () => {
    let holdFirst = true;
    const { seen, lifecycle } = connect(async () => {
      if (holdFirst) {
        holdFirst = false;
        emu.dropConnections();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return {};
    });
    await emu.awaitConnections(1);
    const first = emu.connections[0]?.id;
    const result = await emu.pushOverConnection(message('ev_drop'));
    expect(result.delivered).toBe(true);
    expect(result.deliveries[0]).toMatchObject({ outcome: 'dropped', connectionId: first });
    expect(result.deliveries.at(-1)?.connectionId).not.toBe(first);
    expect(seen.map((s) => (s.data as any).header.event_id)).toEqual(['ev_drop', 'ev_drop']);
    await expect.poll(() => lifecycle).toEqual(['ready', 'reconnecting', 'reconnected']);
  });

  it('gives each push to one of several connections', async () => {
    const a = connect();
    const b = connect();
    await emu.awaitConnections(2);
    for (let i = 0; i < 20; i++) await emu.pushOverConnection(message(`ev_${i}`));
    expect(a.seen.length + b.seen.length).toBe(20);
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length).toBeGreaterThan(0);
    const ids = [...a.seen, ...b.seen].map((s) => (s.data as any).header.event_id);
    expect(new Set(ids).size).toBe(20);
  });

  it('refuses wrong credentials at the endpoint call, and the SDK gives up with the code', async () => {
    const { failure } = connect(undefined, 'wrong-secret');
    const error = await failure;
    expect(error.message).toContain('1000040345');
    expect(emu.connections).toHaveLength(0);
  });

  it('answers no-connection for a callback nobody is connected to receive', async () => {
    const result = await emu.pushOverConnection(click('ev_nobody'));
    expect(result.deliveries).toEqual([expect.objectContaining({ outcome: 'no-connection' })]);
  });
});
