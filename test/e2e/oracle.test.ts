import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptPayload, messageEvent, signPush, urlChallenge } from '../../emulator';
import { type Harness, SECRETS, startHarness } from './harness';

/**
 * Issue 13, item 1: the bot must not be a decryption oracle. Before the fix it decrypted unsigned bodies and
 * answered bad padding, bad JSON and a missing signature differently, which let a captured push be decrypted block
 * by block. Every refusal of an unproven push now gets one status and one body, whatever is wrong with it.
 */

const KEY = SECRETS.encryptKey;
const TOKEN = SECRETS.verificationToken;
const REFUSAL = { status: 401, text: '{"error":"unauthenticated"}' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

async function post(body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(`${h.app.url}/webhook/event`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

/** A push an attacker captured on the wire: a real signed message event, of which only the body is replayed. */
function capturedPush(): { body: string; ciphertext: Buffer } {
  const event = messageEvent({
    token: TOKEN,
    senderId: 'ou_admin',
    text: '@_user_1 /todo secret plans',
    mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'Bot' }],
  });
  const encrypt = encryptPayload(JSON.stringify(event), KEY);
  return { body: JSON.stringify({ encrypt }), ciphertext: Buffer.from(encrypt, 'base64') };
}

const sealed = (plaintext: string) => JSON.stringify({ encrypt: encryptPayload(plaintext, KEY) });

function signedHeaders(body: string, opts: { key?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = 'oracle-nonce';
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signPush({ timestamp, nonce, encryptKey: opts.key ?? KEY, rawBody: body }),
  };
}

describe('unsigned garbage of every kind gets one answer', () => {
  const captured = capturedPush();
  const cases: Array<[string, () => { body: string | Uint8Array; headers?: Record<string, string> }]> = [
    ['bad base64', () => ({ body: JSON.stringify({ encrypt: '!!! not base64 at all !!!' }) })],
    ['a ciphertext of the wrong length', () => ({ body: JSON.stringify({ encrypt: 'AAAA' }) })],
    [
      'bad padding (a captured push, last byte changed)',
      () => {
        const bytes = Buffer.from(captured.ciphertext);
        bytes[bytes.length - 17] = (bytes[bytes.length - 17] as number) ^ 0x01;
        return { body: JSON.stringify({ encrypt: bytes.toString('base64') }) };
      },
    ],
    ['valid padding, not JSON', () => ({ body: sealed('not json at all') })],
    ['valid padding, JSON that is not an object', () => ({ body: sealed('[1,2,3]') })],
    ['valid JSON without a signature (the captured push itself)', () => ({ body: captured.body })],
    ['a challenge with a wrong token', () => ({ body: sealed(JSON.stringify(urlChallenge({ token: 'guessed', challenge: 'c1' }))) })],
    ['a challenge with the right token but no challenge', () => ({ body: sealed(JSON.stringify({ type: 'url_verification', token: TOKEN })) })],
    ['a plain (unencrypted) challenge with a wrong token', () => ({ body: JSON.stringify(urlChallenge({ token: 'guessed', challenge: 'c2' })) })],
    [
      'an event in plain JSON with the right token, unsigned',
      () => ({ body: JSON.stringify(messageEvent({ token: TOKEN, senderId: 'ou_admin', text: '/help' })) }),
    ],
    ['a body that is not JSON', () => ({ body: '{"encrypt": ' })],
    ['an empty body', () => ({ body: '' })],
    ['random bytes', () => ({ body: new Uint8Array([0, 255, 1, 254, 2, 253]) })],
    ['only a timestamp header', () => ({ body: captured.body, headers: { 'x-lark-request-timestamp': String(Math.floor(Date.now() / 1000)) } })],
    ['oversize (a few kilobytes)', () => ({ body: JSON.stringify({ encrypt: 'A'.repeat(8_000) }) })],
    ['oversize (two megabytes)', () => ({ body: JSON.stringify({ encrypt: 'A'.repeat(2 * 1024 * 1024) }) })],
    ['a signature made with another key', () => ({ body: captured.body, headers: signedHeaders(captured.body, { key: 'not-the-key' }) })],
    ['a random signature', () => ({ body: captured.body, headers: { ...signedHeaders(captured.body), 'x-lark-signature': 'ab'.repeat(32) } })],
    ['a signed push a day old', () => ({ body: captured.body, headers: signedHeaders(captured.body, { timestamp: Math.floor(Date.now() / 1000) - 86_400 }) })],
    [
      'a signed push from the future',
      () => ({ body: captured.body, headers: signedHeaders(captured.body, { timestamp: Math.floor(Date.now() / 1000) + 3_600 }) }),
    ],
  ];

  it.each(cases)('%s', async (_name, build) => {
    const { body, headers } = build();
    const answer = await post(body, headers);
    expect({ status: answer.status, text: answer.text }).toEqual(REFUSAL);
    expect(answer.type).toBe('application/json; charset=utf-8');
  });

  it('caused nothing, and the reason is only in the log', async () => {
    await h.settled();
    expect(h.callsSinceStart()).toEqual([]);
    const refusals = h.logs.filter((line) => line.includes('request refused'));
    expect(refusals.length).toBeGreaterThanOrEqual(cases.length);
    for (const reason of ['undecryptable', 'malformed', 'bad-token', 'not-a-challenge', 'bad-signature', 'stale', 'unsigned-too-large']) {
      expect(
        refusals.some((line) => line.includes(`"reason":"${reason}"`)),
        reason,
      ).toBe(true);
    }
    console.log(
      `FIGURE: oracle: ${cases.length} kinds of unproven body (bad base64, bad padding, not JSON, unsigned, wrong token, oversize, bad signature, stale) → 1 answer, 401 unauthenticated; 0 Feishu calls`,
    );
  });
});

describe('a padding oracle probe', () => {
  it('learns nothing: 256 guesses at the last byte of a captured block all get the same answer', async () => {
    // The classic attack: keep the captured last block, put a chosen block before it as its IV, and vary one byte.
    // Exactly the guesses that make valid padding used to be told apart (400 malformed vs 400 undecryptable).
    const { ciphertext } = capturedPush();
    const last = ciphertext.subarray(ciphertext.length - 16);
    const answers = new Set<string>();
    for (let guess = 0; guess < 256; guess++) {
      const iv = Buffer.alloc(16, 0x41);
      iv[15] = guess;
      const answer = await post(JSON.stringify({ encrypt: Buffer.concat([iv, last]).toString('base64') }));
      answers.add(`${answer.status} ${answer.text}`);
    }
    console.log(`FIGURE: oracle: 256 padding-oracle guesses at one captured block: ${answers.size} distinct answer (${[...answers].join('; ')})`);
    expect([...answers]).toEqual([`${REFUSAL.status} ${REFUSAL.text}`]);
  });
});

describe('an unsigned body is read no further than a challenge needs', () => {
  it('answers a claimed 10 MB unsigned body before it has been sent', async () => {
    const answer = await rawExchange((socket) => {
      socket.write(`POST /webhook/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"encrypt":"`);
      socket.write('A'.repeat(100));
      // The rest never comes: an answer can only be the bot refusing without reading it.
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toContain(REFUSAL.text);
  });

  it('stops reading a chunked unsigned body past the limit and answers', async () => {
    const answer = await rawExchange((socket) => {
      socket.write('POST /webhook/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = 'A'.repeat(1000);
      for (let i = 0; i < 10; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      // No terminating chunk: the body never ends.
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toContain(REFUSAL.text);
  });
});

/** Opens a socket, lets `write` send a partial request, and resolves with whatever the bot answers. */
function rawExchange(write: (socket: import('node:net').Socket) => void): Promise<string> {
  const { hostname, port } = new URL(h.app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => write(socket));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      received += data;
      if (received.includes('\r\n\r\n') && received.includes('}')) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}
