import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { decryptPush } from './decrypt';
import { secretDigest } from './secret-digest';

/**
 * Is this push really from Feishu, and fresh? Framework-free on purpose: raw body and headers in, the decrypted
 * payload or a precise reason out, so the same check serves the server, the tests and the benchmarks.
 */

export type AuthFailureReason =
  | 'malformed'
  | 'undecryptable'
  | 'missing-signature'
  | 'stale'
  | 'bad-signature'
  | 'bad-token';

const REASON_TEXT: Record<AuthFailureReason, string> = {
  malformed: 'the body is not the JSON Feishu sends',
  undecryptable: 'the body could not be decrypted with the Encrypt Key',
  'missing-signature': 'the signature headers are missing',
  stale: 'the request timestamp is outside the replay window',
  'bad-signature': 'the signature does not match the body',
  'bad-token': 'the verification token does not match',
};

export class FeishuAuthError extends Error {
  /** 400 for a body that is not Feishu's shape; 401 for one that is, but is not proven to come from Feishu. */
  readonly status: 400 | 401;
  constructor(readonly reason: AuthFailureReason) {
    super(`Rejected push: ${REASON_TEXT[reason]}`);
    this.name = 'FeishuAuthError';
    this.status = reason === 'malformed' || reason === 'undecryptable' ? 400 : 401;
  }
}

export type VerifiedPush =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'payload'; payload: Record<string, unknown> };

export interface VerifyInput {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  encryptKey: string;
  verificationToken: string;
  nowMs: number;
  replayWindowMs: number;
}

export function verifyPush(input: VerifyInput): VerifiedPush {
  const outer = parseObject(input.rawBody.toString('utf8'));
  const payload = typeof outer.encrypt === 'string' ? decrypted(outer.encrypt, input.encryptKey) : outer;

  // Feishu sends the URL challenge without signature headers; its token is the only proof, and answering it
  // reveals nothing but the challenge itself.
  if (payload.type === 'url_verification') {
    checkToken(payload.token, input.verificationToken);
    if (typeof payload.challenge !== 'string') throw new FeishuAuthError('malformed');
    return { kind: 'challenge', challenge: payload.challenge };
  }

  checkSignature(input);
  checkToken(tokenOf(payload), input.verificationToken);
  return { kind: 'payload', payload };
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

function decrypted(encrypted: string, encryptKey: string): Record<string, unknown> {
  let text: string;
  try {
    text = decryptPush(encrypted, encryptKey);
  } catch {
    throw new FeishuAuthError('undecryptable');
  }
  return parseObject(text);
}

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function checkSignature({ rawBody, headers, encryptKey, nowMs, replayWindowMs }: VerifyInput): void {
  const timestamp = header(headers, 'x-lark-request-timestamp');
  const nonce = header(headers, 'x-lark-request-nonce');
  const signature = header(headers, 'x-lark-signature');
  if (!timestamp || !nonce || !signature) throw new FeishuAuthError('missing-signature');

  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs - seconds * 1000) > replayWindowMs) {
    throw new FeishuAuthError('stale');
  }
  const expected = createHash('sha256').update(timestamp).update(nonce).update(encryptKey).update(rawBody).digest();
  if (!equalHex(signature, expected)) throw new FeishuAuthError('bad-signature');
}

function equalHex(given: string, expected: Buffer): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

function tokenOf(payload: Record<string, unknown>): unknown {
  const envelopeHeader = payload.header as Record<string, unknown> | undefined;
  return envelopeHeader?.token ?? payload.token;
}

function checkToken(given: unknown, expected: string): void {
  if (typeof given !== 'string') throw new FeishuAuthError('bad-token');
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  if (!timingSafeEqual(hash('sha256', given, 'buffer'), secretDigest(expected))) throw new FeishuAuthError('bad-token');
}
