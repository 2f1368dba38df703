import { hash, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCode } from '../errors';
import { decryptPush } from './decrypt';
import { reusedBuffer } from './reused-buffer';

/**
 * Is this push really from Feishu, and fresh? Framework-free on purpose (Bolt's verify-request shape): raw body and
 * headers in, the decrypted payload out, or an error whose reason goes to the log and nowhere else, so the same check
 * serves the server, the tests and the benchmarks.
 *
 * The order is the defence. The timestamp and the signature over the raw bytes are checked before anything of the
 * body is decrypted or parsed: a forger without the Encrypt Key learns nothing from how a body fails, so the bot
 * cannot serve as a decryption oracle (issue 13). The one push Feishu sends unsigned, the URL challenge, is small; it
 * is decrypted, and every unsigned body that is not a well-formed challenge with the right token fails like any other.
 */

export type AuthFailureReason =
  /** Unsigned and larger than any challenge: refused unread. */
  | 'unsigned-too-large'
  /** Unsigned, readable, but not a URL challenge. */
  | 'not-a-challenge'
  | 'malformed'
  | 'undecryptable'
  | 'stale'
  | 'bad-signature'
  | 'bad-token';

const REASON_TEXT: Record<AuthFailureReason, string> = {
  'unsigned-too-large': 'an unsigned body is larger than a URL challenge',
  'not-a-challenge': 'an unsigned body is not a URL challenge',
  malformed: 'the body is not the JSON Feishu sends',
  undecryptable: 'the body could not be decrypted with the Encrypt Key',
  stale: 'the request timestamp is outside the window for this kind of push',
  'bad-signature': 'the signature does not match the body',
  'bad-token': 'the verification token does not match',
};

/** Every reason is one answer to the sender (401 unauthenticated); the reason is for the log. */
export class FeishuAuthError extends CodedError {
  readonly code = ErrorCode.PushUnauthenticated;

  constructor(readonly reason: AuthFailureReason) {
    super(`Rejected push: ${REASON_TEXT[reason]}`);
  }
}

/**
 * The most an unsigned body may hold. Feishu's encrypted challenge is about 200 bytes (the Node SDK's test fixture:
 * 206); the schema-2.0 shaped one of the Go and Java SDK fixtures, about 700. Twenty times the real one leaves room.
 */
export const UNSIGNED_BODY_LIMIT_BYTES = 4 * 1024;

/**
 * The default most a signed body may hold. Feishu's largest pushes, encrypted as it sends them
 * (test/unit/push-size.test.ts measures them): a text message at its 150 KB limit, 206 KB of CJK or 247 KB of
 * ASCII full of quotes and line breaks (escaped twice over); rich text at its 30 KB limit, 53 KB; a form submitted
 * with 500 people picked, 28 KB. Twice the largest leaves room for fields Feishu adds.
 */
export const SIGNED_BODY_LIMIT_BYTES = 512 * 1024;

/**
 * How old a signed event may be. Feishu retries an unanswered event after 15 s, 5 min, 1 h and 6 h; whether a retry
 * carries a fresh timestamp is not documented, and read as gaps those add up to 7 h 05 min. Event ids are remembered
 * 24 h, so a replay inside this span is a duplicate and changes nothing.
 */
export const EVENT_MAX_AGE_MS = 8 * 60 * 60 * 1000;

export type VerifiedPush = { kind: 'challenge'; challenge: string } | { kind: 'payload'; payload: Record<string, unknown> };

export interface VerifyInput {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  encryptKey: string;
  verificationToken: string;
  nowMs: number;
  /** How far a card callback's timestamp may be from now, and any timestamp ahead of it. */
  replayWindowMs: number;
}

interface SignatureHeaders {
  timestamp: string;
  nonce: string;
  signature: string;
}

/** Whether the push carries Feishu's signature headers; only a signed push may be larger than a challenge. */
export function isSigned(headers: VerifyInput['headers']): boolean {
  return signatureHeaders(headers) !== undefined;
}

export function verifyPush(input: VerifyInput): VerifiedPush {
  const signed = signatureHeaders(input.headers);
  if (!signed) return unsignedChallenge(input);

  const signedAtMs = checkSignature(input, signed);
  const payload = openBody(input.rawBody, input.encryptKey);
  checkToken(tokenOf(payload), input.verificationToken);
  // The signature held for the longest window; a push Feishu never retries gets the short one, now that its kind
  // can be read from the authenticated payload.
  if (!retriedByFeishu(payload) && input.nowMs - signedAtMs > input.replayWindowMs) throw new FeishuAuthError('stale');
  if (payload.type === 'url_verification') return challengeOf(payload);
  return { kind: 'payload', payload };
}

/** The URL challenge, the only push Feishu sends without a signature: its token is the only proof. */
function unsignedChallenge(input: VerifyInput): VerifiedPush {
  if (input.rawBody.length > UNSIGNED_BODY_LIMIT_BYTES) throw new FeishuAuthError('unsigned-too-large');
  const payload = openBody(input.rawBody, input.encryptKey);
  if (payload.type !== 'url_verification') throw new FeishuAuthError('not-a-challenge');
  checkToken(tokenOf(payload), input.verificationToken);
  return challengeOf(payload);
}

function challengeOf(payload: Record<string, unknown>): VerifiedPush {
  if (typeof payload.challenge !== 'string' || payload.challenge === '') throw new FeishuAuthError('not-a-challenge');
  return { kind: 'challenge', challenge: payload.challenge };
}

/** Event pushes (schema 2.0, any type but a card callback) are retried for hours; card callbacks never are. */
function retriedByFeishu(payload: Record<string, unknown>): boolean {
  const eventType = (payload.header as Record<string, unknown> | undefined)?.event_type;
  return payload.schema === '2.0' && typeof eventType === 'string' && eventType !== 'card.action.trigger';
}

/** The body as JSON, decrypted first when it is Feishu's `{"encrypt": …}` envelope. */
function openBody(rawBody: Buffer, encryptKey: string): Record<string, unknown> {
  const encrypted = envelopeCiphertext(rawBody);
  if (encrypted === undefined) {
    const outer = parseObject(rawBody.toString('utf8'));
    if (typeof outer.encrypt !== 'string') return outer;
    return parseObject(decrypted(outer.encrypt, encryptKey));
  }
  return parseObject(decrypted(encrypted, encryptKey));
}

function decrypted(encrypted: string, encryptKey: string): string {
  try {
    return decryptPush(encrypted, encryptKey);
  } catch {
    throw new FeishuAuthError('undecryptable');
  }
}

const ENVELOPE_START = Buffer.from('{"encrypt":"');
const ENVELOPE_END = Buffer.from('"}');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The ciphertext of a body that is exactly `{"encrypt":"…"}`, as Feishu sends every encrypted push, read without
 * parsing the JSON: base64 holds no quote and no backslash, so a string with neither needs no unescaping. Any other
 * spelling (spaces, escapes, more fields) is undefined here and parsed as JSON, with the same result.
 */
function envelopeCiphertext(rawBody: Buffer): string | undefined {
  const start = ENVELOPE_START.length;
  const end = rawBody.length - ENVELOPE_END.length;
  if (end < start || !rawBody.subarray(0, start).equals(ENVELOPE_START) || !rawBody.subarray(end).equals(ENVELOPE_END)) return undefined;
  if (rawBody.indexOf(QUOTE, start) !== end || rawBody.indexOf(BACKSLASH, start) !== -1) return undefined;
  return rawBody.toString('latin1', start, end);
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FeishuAuthError('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FeishuAuthError('malformed');
  return value as Record<string, unknown>;
}

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function signatureHeaders(headers: VerifyInput['headers']): SignatureHeaders | undefined {
  const timestamp = header(headers, 'x-lark-request-timestamp');
  const nonce = header(headers, 'x-lark-request-nonce');
  const signature = header(headers, 'x-lark-signature');
  return timestamp && nonce && signature ? { timestamp, nonce, signature } : undefined;
}

/** Checks the timestamp against the longest window, then the signature; returns when the push was signed. */
function checkSignature({ rawBody, encryptKey, nowMs, replayWindowMs }: VerifyInput, { timestamp, nonce, signature }: SignatureHeaders): number {
  if (!/^\d{1,12}$/.test(timestamp)) throw new FeishuAuthError('stale');
  const signedAtMs = Number(timestamp) * 1000;
  if (signedAtMs - nowMs > replayWindowMs || nowMs - signedAtMs > Math.max(EVENT_MAX_AGE_MS, replayWindowMs)) {
    throw new FeishuAuthError('stale');
  }
  if (!equalHex(signature, sha256Hex(timestamp + nonce + encryptKey, rawBody))) throw new FeishuAuthError('bad-signature');
  return signedAtMs;
}

/**
 * What a signature covers is copied into a buffer kept for the purpose and hashed in one call: a Hash object per
 * push, fed twice, cost a third more. The digest comes back as hex, a string in V8's heap: as a Buffer it was a new
 * ArrayBuffer outside it per push, about 1 µs more to make and to free.
 */
const signedBuffer = reusedBuffer(16 * 1024);

function sha256Hex(prefix: string, body: Buffer): string {
  const signedBytes = signedBuffer(prefix.length * 3 + body.length);
  const prefixBytes = signedBytes.write(prefix);
  body.copy(signedBytes, prefixBytes);
  return hash('sha256', signedBytes.subarray(0, prefixBytes + body.length), 'hex');
}

/** The signature header and the digest, decoded into buffers of their own (each always 32 bytes). */
const givenDigest = Buffer.alloc(32);
const expectedDigest = Buffer.alloc(32);

/**
 * Compared as bytes by `timingSafeEqual`; the hex on either side is read through a 16-entry table that never leaves
 * the CPU's first cache, as Node wrote the digest as hex. Hex decoding stops at the first character that is not a hex
 * digit, so 64 characters are all digits if they make 32 bytes.
 */
function equalHex(given: string, expectedHex: string): boolean {
  if (given.length !== 64 || givenDigest.write(given, 'hex') !== 32) return false;
  expectedDigest.write(expectedHex, 'hex');
  return timingSafeEqual(givenDigest, expectedDigest);
}

/** A schema 2.0 payload (events, callbacks, the 2.0 shaped challenge) carries it in `header`; 1.0 at the top. */
function tokenOf(payload: Record<string, unknown>): unknown {
  const envelopeHeader = payload.header as Record<string, unknown> | undefined;
  return envelopeHeader?.token ?? payload.token;
}

/** The configured Verification Tokens' bytes, made once: a configured value, needed on every push. */
const tokenBytes = new Map<string, Buffer>();
/** What a push says its token is, cut or padded with zeros to the configured token's length. */
const givenToken = reusedBuffer(64);

/**
 * Compared in constant time: the given token is written into a buffer as long as the configured one, so that the
 * comparison always covers every byte of the configured token, and only then are the lengths compared. The time
 * depends on the lengths alone (Feishu's tokens are all as long), never on how much of the token a guess got right.
 * A SHA-256 of each side did the same at seven times the cost.
 */
function checkToken(given: unknown, expected: string): void {
  if (typeof given !== 'string') throw new FeishuAuthError('bad-token');
  let want = tokenBytes.get(expected);
  if (!want) {
    want = Buffer.from(expected);
    tokenBytes.set(expected, want);
  }
  const got = givenToken(want.length).subarray(0, want.length).fill(0);
  got.write(given);
  const sameBytes = timingSafeEqual(got, want);
  if (!sameBytes || Buffer.byteLength(given) !== want.length) throw new FeishuAuthError('bad-token');
}
