import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FeishuAuthError, verifyPush } from '../../src/feishu/verify';

const encryptKey = 'unit-encrypt-key';
const verificationToken = 'unit-verification-token';
const now = 1_800_000_000_000;

// An independent rendering of Feishu's scheme, so the test does not check the code against itself.
function encrypt(plaintext: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(encryptKey).digest(), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

function signed(payload: object, opts: { timestamp?: number; encrypted?: boolean } = {}) {
  const body = JSON.stringify(opts.encrypted === false ? payload : { encrypt: encrypt(JSON.stringify(payload)) });
  const timestamp = String(opts.timestamp ?? Math.floor(now / 1000));
  const nonce = 'n-123';
  const signature = createHash('sha256').update(timestamp + nonce + encryptKey + body).digest('hex');
  return {
    rawBody: Buffer.from(body),
    headers: { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature },
  };
}

const event = { schema: '2.0', header: { event_id: 'e1', event_type: 'im.message.receive_v1', token: verificationToken }, event: {} };
const verify = (input: { rawBody: Buffer; headers: Record<string, string> }) =>
  verifyPush({ ...input, encryptKey, verificationToken, nowMs: now, replayWindowMs: 300_000 });

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof FeishuAuthError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('verifyPush', () => {
  it('accepts a signed encrypted push and returns the decrypted payload', () => {
    expect(verify(signed(event))).toEqual({ kind: 'payload', payload: event });
  });

  it('accepts a signed push that is not encrypted', () => {
    expect(verify(signed(event, { encrypted: false }))).toEqual({ kind: 'payload', payload: event });
  });

  it('refuses a body changed after signing', () => {
    const push = signed(event);
    const tampered = Buffer.from(push.rawBody.toString().replace('"}', 'A"}'));
    expect(reasonOf(() => verify({ ...push, rawBody: tampered }))).toBe('bad-signature');
  });

  it('checks the raw bytes, not re-serialised JSON', () => {
    const push = signed(event, { encrypted: false });
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(push.rawBody.toString()), null, 2));
    expect(reasonOf(() => verify({ ...push, rawBody: reformatted }))).toBe('bad-signature');
  });

  it('refuses a timestamp outside the replay window, either side', () => {
    expect(reasonOf(() => verify(signed(event, { timestamp: now / 1000 - 301 })))).toBe('stale');
    expect(reasonOf(() => verify(signed(event, { timestamp: now / 1000 + 301 })))).toBe('stale');
    expect(verify(signed(event, { timestamp: now / 1000 - 299 })).kind).toBe('payload');
  });

  it('refuses a push without signature headers', () => {
    const { rawBody } = signed(event);
    expect(reasonOf(() => verify({ rawBody, headers: {} }))).toBe('missing-signature');
  });

  it('refuses a wrong verification token even with a good signature', () => {
    const forged = { ...event, header: { ...event.header, token: 'guess' } };
    expect(reasonOf(() => verify(signed(forged)))).toBe('bad-token');
  });

  it('answers the URL challenge without signature headers, but only with the right token', () => {
    const challenge = { type: 'url_verification', challenge: 'abc', token: verificationToken };
    const body = Buffer.from(JSON.stringify({ encrypt: encrypt(JSON.stringify(challenge)) }));
    expect(verify({ rawBody: body, headers: {} })).toEqual({ kind: 'challenge', challenge: 'abc' });
    const plain = Buffer.from(JSON.stringify({ ...challenge, token: 'nope' }));
    expect(reasonOf(() => verify({ rawBody: plain, headers: {} }))).toBe('bad-token');
  });

  it('calls malformed and undecryptable bodies 400, unproven ones 401', () => {
    expect(reasonOf(() => verify({ rawBody: Buffer.from('{not json'), headers: {} }))).toBe('malformed');
    expect(reasonOf(() => verify({ rawBody: Buffer.from('[1,2]'), headers: {} }))).toBe('malformed');
    expect(reasonOf(() => verify({ rawBody: Buffer.from('{"encrypt":"AAAA"}'), headers: {} }))).toBe('undecryptable');
    expect(new FeishuAuthError('malformed').status).toBe(400);
    expect(new FeishuAuthError('bad-signature').status).toBe(401);
  });
});
