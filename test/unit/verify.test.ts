import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UNSIGNED_BODY_LIMIT_BYTES, isSigned, verifyPush } from '../../src/feishu/verify';
import { authRefusal } from '../support/auth-refusal';

const encryptKey = 'unit-encrypt-key';
const verificationToken = 'unit-verification-token';
const now = 1_800_000_000_000;

// An independent rendering of Feishu's scheme, so the test does not check the code against itself.
function encrypt(plaintext: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(encryptKey).digest(), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

function signed(payload: object, opts: { timestamp?: number; encrypted?: boolean; body?: (ciphertext: string) => string } = {}) {
  const ciphertext = encrypt(JSON.stringify(payload));
  const body = opts.body?.(ciphertext) ?? JSON.stringify(opts.encrypted === false ? payload : { encrypt: ciphertext });
  const timestamp = String(opts.timestamp ?? Math.floor(now / 1000));
  const nonce = 'n-123';
  const signature = createHash('sha256')
    .update(timestamp + nonce + encryptKey + body)
    .digest('hex');
  return {
    rawBody: Buffer.from(body),
    headers: { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature },
  };
}

const event = { schema: '2.0', header: { event_id: 'e1', event_type: 'im.message.receive_v1', token: verificationToken }, event: {} };
const verify = (input: { rawBody: Buffer; headers: Record<string, string> }) =>
  verifyPush({ ...input, encryptKey, verificationToken, nowMs: now, replayWindowMs: 300_000 });

describe('verifyPush', () => {
  it('accepts a signed encrypted push and returns the decrypted payload', () => {
    expect(verify(signed(event))).toEqual({ kind: 'payload', payload: event });
  });

  it('checks the signature of a push larger than any before it, and of the small ones around it', () => {
    const large = { ...event, event: { text: '长'.repeat(40_000) } };
    for (const payload of [event, large, event, large]) expect(verify(signed(payload))).toEqual({ kind: 'payload', payload });
    const forged = signed(large);
    const at = forged.rawBody.length - 10;
    forged.rawBody.write(forged.rawBody.toString('latin1', at, at + 1) === 'A' ? 'B' : 'A', at, 'latin1');
    expect(() => verify(forged)).toThrow(/signature/);
    expect(verify(signed(event))).toEqual({ kind: 'payload', payload: event });
  });

  it('reads the envelope alike however its JSON is spelled (the plain spelling is read without a parse)', () => {
    const spellings = [
      (c: string) => `{"encrypt":"${c}"}`,
      (c: string) => `{ "encrypt" : "${c}" }\n`,
      (c: string) => `{"encrypt":"${c.replaceAll('/', '\\/')}"}`,
      (c: string) => `{"encrypt":"${c}","extra":1}`,
    ];
    for (const body of spellings) expect(verify(signed(event, { body }))).toEqual({ kind: 'payload', payload: event });
    // A multi-byte character split across cipher blocks decodes whole.
    const chinese = { ...event, event: { text: '待办'.repeat(20) } };
    expect(verify(signed(chinese))).toEqual({ kind: 'payload', payload: chinese });
    expect(authRefusal(() => verify(signed(event, { body: (c) => `{"encrypt":"${c.slice(0, -4)}"}` })))).toBe('undecryptable');
  });

  it('accepts a signed push that is not encrypted', () => {
    expect(verify(signed(event, { encrypted: false }))).toEqual({ kind: 'payload', payload: event });
  });

  it('refuses a body changed after signing', () => {
    const push = signed(event);
    const tampered = Buffer.from(push.rawBody.toString().replace('"}', 'A"}'));
    expect(authRefusal(() => verify({ ...push, rawBody: tampered }))).toBe('bad-signature');
  });

  it('checks the raw bytes, not re-serialised JSON', () => {
    const push = signed(event, { encrypted: false });
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(push.rawBody.toString()), null, 2));
    expect(authRefusal(() => verify({ ...push, rawBody: reformatted }))).toBe('bad-signature');
  });

  it('accepts a signed event up to 8 h old (Feishu retries it for hours), never one from the future', () => {
    const hours = (n: number) => now / 1000 - n * 3600;
    expect(verify(signed(event, { timestamp: hours(7) + 60 })).kind).toBe('payload');
    expect(verify(signed(event, { timestamp: hours(8) + 1 })).kind).toBe('payload');
    expect(authRefusal(() => verify(signed(event, { timestamp: hours(8) - 1 })))).toBe('stale');
    expect(authRefusal(() => verify(signed(event, { timestamp: now / 1000 + 301 })))).toBe('stale');
  });

  it('keeps the short window for card callbacks, which Feishu never retries', () => {
    const click = { schema: '2.0', header: { event_id: 'e2', event_type: 'card.action.trigger', token: verificationToken }, event: {} };
    expect(verify(signed(click, { timestamp: now / 1000 - 299 })).kind).toBe('payload');
    expect(authRefusal(() => verify(signed(click, { timestamp: now / 1000 - 301 })))).toBe('stale');
    expect(authRefusal(() => verify(signed(click, { timestamp: now / 1000 + 301 })))).toBe('stale');
  });

  it('gives the short window to anything signed that is not a schema 2.0 event', () => {
    const v1 = { uuid: 'u1', token: verificationToken, type: 'event_callback', event: { type: 'message' } };
    expect(verify(signed(v1, { timestamp: now / 1000 - 299 })).kind).toBe('payload');
    expect(authRefusal(() => verify(signed(v1, { timestamp: now / 1000 - 3600 })))).toBe('stale');
  });

  it('refuses a timestamp that is not a number of seconds before looking at the signature', () => {
    const push = signed(event);
    expect(authRefusal(() => verify({ ...push, headers: { ...push.headers, 'x-lark-request-timestamp': '1e9' } }))).toBe('stale');
  });

  it('refuses a push without signature headers: unsigned, only a challenge is accepted', () => {
    const { rawBody } = signed(event);
    expect(authRefusal(() => verify({ rawBody, headers: {} }))).toBe('not-a-challenge');
  });

  it('refuses a wrong verification token even with a good signature', () => {
    const forged = { ...event, header: { ...event.header, token: 'guess' } };
    expect(authRefusal(() => verify(signed(forged)))).toBe('bad-token');
  });

  it('refuses any token but the configured one: a part of it, it and more, one byte off, another script', () => {
    const withToken = (token: unknown) => signed({ ...event, header: { ...event.header, token } });
    const wrong = [
      verificationToken.slice(0, -1),
      `${verificationToken}x`,
      `${verificationToken}\u0000`,
      `${verificationToken.slice(0, -1)}N`,
      verificationToken.toUpperCase(),
      `${verificationToken.slice(0, -3)}验`,
      '',
      42,
    ];
    for (const token of wrong) expect(authRefusal(() => verify(withToken(token)))).toBe('bad-token');
    // A longer guess first, then the right token: nothing of one comparison is left for the next.
    expect(verify(withToken(verificationToken)).kind).toBe('payload');
  });

  it('takes the signature in either case of hex, and nothing but 64 hex digits', () => {
    const push = signed(event);
    const signature = push.headers['x-lark-signature'];
    expect(verify({ ...push, headers: { ...push.headers, 'x-lark-signature': signature.toUpperCase() } }).kind).toBe('payload');
    for (const forged of [`${signature.slice(0, 63)}g`, `${signature}0`, signature.slice(0, 62), ` ${signature.slice(1)}`]) {
      expect(authRefusal(() => verify({ ...push, headers: { ...push.headers, 'x-lark-signature': forged } }))).toBe('bad-signature');
    }
  });

  it('answers the URL challenge without signature headers, but only with the right token', () => {
    const challenge = { type: 'url_verification', challenge: 'abc', token: verificationToken };
    const body = Buffer.from(JSON.stringify({ encrypt: encrypt(JSON.stringify(challenge)) }));
    expect(verify({ rawBody: body, headers: {} })).toEqual({ kind: 'challenge', challenge: 'abc' });
    const plain = Buffer.from(JSON.stringify({ ...challenge, token: 'nope' }));
    expect(authRefusal(() => verify({ rawBody: plain, headers: {} }))).toBe('bad-token');
  });

  it('answers a challenge whose token sits in header.token, as the schema 2.0 shape has it', () => {
    const challenge = { schema: '2.0', header: { token: verificationToken }, type: 'url_verification', challenge: 'c2' };
    const body = Buffer.from(JSON.stringify({ encrypt: encrypt(JSON.stringify(challenge)) }));
    expect(verify({ rawBody: body, headers: {} })).toEqual({ kind: 'challenge', challenge: 'c2' });
    const wrong = { ...challenge, header: { token: 'nope' }, token: verificationToken };
    expect(authRefusal(() => verify({ rawBody: Buffer.from(JSON.stringify({ encrypt: encrypt(JSON.stringify(wrong)) })), headers: {} }))).toBe('bad-token');
  });

  it('answers a signed challenge too, checked like any signed push', () => {
    const challenge = { type: 'url_verification', challenge: 'signed', token: verificationToken };
    expect(verify(signed(challenge))).toEqual({ kind: 'challenge', challenge: 'signed' });
    expect(authRefusal(() => verify(signed(challenge, { timestamp: now / 1000 - 3600 })))).toBe('stale');
  });

  it('refuses an unsigned body larger than a challenge without reading it', () => {
    const challenge = { type: 'url_verification', challenge: 'x'.repeat(5000), token: verificationToken };
    const body = Buffer.from(JSON.stringify({ encrypt: encrypt(JSON.stringify(challenge)) }));
    expect(body.length).toBeGreaterThan(UNSIGNED_BODY_LIMIT_BYTES);
    expect(authRefusal(() => verify({ rawBody: body, headers: {} }))).toBe('unsigned-too-large');
    expect(verify(signed(challenge)).kind).toBe('challenge');
  });

  it('refuses unsigned garbage as not a challenge, whatever is wrong with it', () => {
    expect(authRefusal(() => verify({ rawBody: Buffer.from('{not json'), headers: {} }))).toBe('malformed');
    expect(authRefusal(() => verify({ rawBody: Buffer.from('[1,2]'), headers: {} }))).toBe('malformed');
    expect(authRefusal(() => verify({ rawBody: Buffer.from('{"encrypt":"AAAA"}'), headers: {} }))).toBe('undecryptable');
    expect(authRefusal(() => verify({ rawBody: Buffer.from(JSON.stringify({ encrypt: encrypt('{}') })), headers: {} }))).toBe('not-a-challenge');
  });

  it('decrypts nothing before the signature holds', () => {
    // A body that would not even decrypt is refused for its signature: the decrypter is never reached.
    const push = signed(event);
    const garbage = Buffer.from('{"encrypt":"AAAA"}');
    expect(authRefusal(() => verify({ rawBody: garbage, headers: push.headers }))).toBe('bad-signature');
  });

  it('tells whether a push is signed', () => {
    expect(isSigned(signed(event).headers)).toBe(true);
    expect(isSigned({ 'x-lark-request-timestamp': '1', 'x-lark-request-nonce': 'n' })).toBe(false);
    expect(isSigned({})).toBe(false);
  });
});
