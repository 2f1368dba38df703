import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { messageEvent } from '../../emulator';
import { composePush, deliver } from '../../emulator/push';
import type { CardActionAnswer } from '../../src/feishu/events';
import { createLogger } from '../../src/log';
import { type ServerOptions, createServer, listen } from '../../src/receivers/webhook';
import { SECRETS } from '../bot-env';

/**
 * The push handler's own paths, over real HTTP with pushes signed and encrypted as Feishu sends them: an answer given
 * at once or through a promise, a `receive` that throws or rejects, and an observer that throws once the answer went.
 * The bot behind it is replaced by each test's `receive`; the end-to-end suites run the real one.
 */

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function start(
  receive: ServerOptions['receive'],
  observePush?: ServerOptions['observePush'],
  limits = { bodyLimitBytes: 512 * 1024, bodyBudgetBytes: 8 * 1024 * 1024 },
) {
  const logs: Array<Record<string, unknown>> = [];
  const observed: string[] = [];
  const handler = createServer({
    webhook: { encryptKey: SECRETS.encryptKey, verificationToken: SECRETS.verificationToken },
    replayWindowMs: 300_000,
    ...limits,
    logger: createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    now: Date.now,
    receive,
    health: async () => ({ status: 'ok', components: {} }) as never,
    observePush: (route, outcome, seconds) => {
      observed.push(`${route} ${outcome}`);
      observePush?.(route, outcome, seconds);
    },
  });
  const server = listen(handler, { port: 0, host: '127.0.0.1', maxConnections: 100, requestTimeoutMs: 10_000 });
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/event`;
  const push = (eventId: string) =>
    deliver(composePush(url, messageEvent({ token: SECRETS.verificationToken, senderId: 'ou_a', text: 'hello', eventId }), { encryptKey: SECRETS.encryptKey }));
  return { url, push, logs, observed };
}

describe('the push handler', () => {
  it('sends the answer receive gives at once, and the one it gives through a promise', async () => {
    const answers: Record<string, CardActionAnswer | Promise<CardActionAnswer>> = {
      ev_now: { toast: { type: 'info', content: 'now' } },
      ev_later: new Promise((resolve) => setTimeout(() => resolve({ toast: { type: 'success', content: 'later' } }), 20)),
    };
    const { push, observed } = await start((event) => answers[event.eventId] ?? {});
    const [later, now] = await Promise.all([push('ev_later'), push('ev_now')]);
    expect(now).toMatchObject({ status: 200, body: { toast: { content: 'now' } } });
    expect(later).toMatchObject({ status: 200, body: { toast: { content: 'later' } } });
    expect(observed).toEqual(['event accepted', 'event accepted']);
  });

  it('answers 500 and logs the event when receive throws, or its promise rejects', async () => {
    const { push, logs, observed } = await start((event) => {
      if (event.eventId === 'ev_throws') throw new Error('thrown at once');
      return Promise.reject(new Error('rejected later'));
    });
    for (const eventId of ['ev_throws', 'ev_rejects']) {
      expect(await push(eventId)).toMatchObject({ status: 500, body: { error: 'internal error' } });
    }
    expect(observed).toEqual(['event failed', 'event failed']);
    const failures = logs.filter((line) => line.msg === 'request failed');
    expect(failures.map((line) => [line.eventId, (line.err as { message: string }).message])).toEqual([
      ['ev_throws', 'thrown at once'],
      ['ev_rejects', 'rejected later'],
    ]);
  });

  it('keeps the answer sent and the server serving when the observer throws after it', async () => {
    let throwing = true;
    const { push, logs } = await start(
      () => ({ toast: { type: 'info', content: 'ok' } }),
      () => {
        if (throwing) throw new Error('observer broke');
      },
    );
    expect(await push('ev_1')).toMatchObject({ status: 200, body: { toast: { content: 'ok' } } });
    expect(logs.filter((line) => line.msg === 'push handling failed').map((line) => (line.err as { message: string }).message)).toEqual(['observer broke']);
    throwing = false;
    expect(await push('ev_2')).toMatchObject({ status: 200 });
  });

  it('closes the connection after refusing a body it left unread, and asks a client over the budget to retry', async () => {
    const send = (url: string, body: string, sign = true) => {
      const composed = composePush(url, {}, { encryptKey: SECRETS.encryptKey, rawBody: body, sign });
      return fetch(url, { method: 'POST', headers: composed.headers, body: composed.body });
    };
    const limited = await start(() => ({}), undefined, { bodyLimitBytes: 4_000, bodyBudgetBytes: 1024 * 1024 });
    const tooLarge = await send(limited.url, JSON.stringify({ encrypt: 'A'.repeat(5_000) }));
    expect([tooLarge.status, tooLarge.headers.get('connection')]).toEqual([413, 'close']);
    const unsignedTooLarge = await send(limited.url, JSON.stringify({ encrypt: 'A'.repeat(5_000) }), false);
    expect([unsignedTooLarge.status, unsignedTooLarge.headers.get('connection')]).toEqual([401, 'close']);
    // A refusal of a body read whole keeps the connection.
    const forged = await send(limited.url, JSON.stringify({ encrypt: 'B'.repeat(100) }));
    expect([forged.status, forged.headers.get('connection')]).toEqual([401, 'keep-alive']);
    expect(limited.observed).toEqual(['event refused', 'event refused', 'event refused']);

    // Over the bytes all pushes may be reading at once (here, by its Content-Length alone).
    const budgeted = await start(() => ({}), undefined, { bodyLimitBytes: 4_000, bodyBudgetBytes: 1_000 });
    const overBudget = await send(budgeted.url, JSON.stringify({ encrypt: 'A'.repeat(2_000) }));
    expect([overBudget.status, overBudget.headers.get('connection'), overBudget.headers.get('retry-after')]).toEqual([503, 'close', '1']);
    expect(budgeted.observed).toEqual(['event busy']);
  });
});
