import { type AddressInfo, connect } from 'node:net';
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

  it('reads a push that arrives in pieces, with or without a length, and refuses one without a length once it passes the limit', async () => {
    const received: string[] = [];
    const { url } = await start(
      (event) => {
        received.push(event.eventId);
        return {};
      },
      undefined,
      { bodyLimitBytes: 4_000, bodyBudgetBytes: 1024 * 1024 },
    );
    const composed = (eventId: string) =>
      composePush(url, messageEvent({ token: SECRETS.verificationToken, senderId: 'ou_a', text: 'hello', eventId }), { encryptKey: SECRETS.encryptKey });
    const head = (headers: Record<string, string>) =>
      `POST /webhook/event HTTP/1.1\r\nHost: bot\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('')}\r\n`;
    const thirds = (body: string) => [body.slice(0, 100), body.slice(100, 300), body.slice(300)];

    const sized = composed('ev_sized');
    const sizedAnswer = await exchange(url, [head({ ...sized.headers, 'Content-Length': String(Buffer.byteLength(sized.body)) }), ...thirds(sized.body)]);
    expect(sizedAnswer).toMatch(/^HTTP\/1\.1 200 /);

    const chunked = composed('ev_chunked');
    const chunks = thirds(chunked.body).map((piece) => `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`);
    const chunkedAnswer = await exchange(url, [head({ ...chunked.headers, 'Transfer-Encoding': 'chunked' }), ...chunks, '0\r\n\r\n']);
    expect(chunkedAnswer).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toEqual(['ev_sized', 'ev_chunked']);

    // Signed, no length, 5,000 bytes in 1,000-byte chunks past a 4,000-byte limit: refused, and the connection closed.
    const large = composed('ev_large');
    const piece = `3e8\r\n${'A'.repeat(1_000)}\r\n`;
    const largeAnswer = await exchange(url, [
      head({ ...large.headers, 'Transfer-Encoding': 'chunked' }),
      ...Array.from({ length: 5 }, () => piece),
      '0\r\n\r\n',
    ]);
    expect(largeAnswer).toMatch(/^HTTP\/1\.1 413 [\s\S]*connection: close/i);
    expect(received).toEqual(['ev_sized', 'ev_chunked']);
  });
});

/**
 * Writes `pieces` to a new connection one at a time, 10 ms apart, so that the server reads the body in several chunks;
 * returns what it answers, once it answers or closes.
 */
function exchange(url: string, pieces: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, async () => {
      for (const piece of pieces) {
        if (!socket.writable) break;
        socket.write(piece);
        await new Promise((wait) => setTimeout(wait, 10));
      }
    });
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      answer += data;
      if (/\r\n\r\n/.test(answer)) socket.end();
    });
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
    socket.on('close', () => resolve(answer));
  });
}
