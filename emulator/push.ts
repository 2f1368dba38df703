import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { Delivery, PushOptions, PushResult } from './types';

/** base64(iv16 + AES-256-CBC(key = sha256(encryptKey), PKCS#7)), as Feishu encrypts every push. */
export function encryptPayload(plaintext: string, encryptKey: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** hex(sha256(timestamp + nonce + encryptKey + rawBody)) over the raw bytes, as sent. */
export function signPush(p: { timestamp: string; nonce: string; encryptKey: string; rawBody: string }): string {
  return createHash('sha256')
    .update(p.timestamp + p.nonce + p.encryptKey + p.rawBody, 'utf8')
    .digest('hex');
}

/** Builds one push as Feishu would send it: its body and headers, signed (or not) at `opts.timestamp` or now. */
export function composePush(target: string, payload: object, opts: PushOptions = {}): Delivery {
  const encryptKey = opts.encryptKey;
  const envelope = encryptKey === undefined ? payload : { encrypt: encryptPayload(JSON.stringify(payload), encryptKey) };
  const rawBody = opts.rawBody ?? JSON.stringify(envelope);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (opts.sign ?? encryptKey !== undefined) {
    const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = opts.nonce ?? randomBytes(8).toString('hex');
    headers['x-lark-request-timestamp'] = timestamp;
    headers['x-lark-request-nonce'] = nonce;
    headers['x-lark-signature'] = signPush({ timestamp, nonce, encryptKey: encryptKey ?? '', rawBody });
  }
  Object.assign(headers, lowerCaseKeys(opts.headers ?? {}));
  return { target, headers, body: opts.tamper ? opts.tamper(rawBody) : rawBody };
}

/**
 * POSTs a composed push and reports the bot's answer. Sending the same delivery again is a retry as Feishu might make
 * it: the same bytes under the original timestamp and signature (whether Feishu re-signs a retry is not documented).
 */
export async function deliver(delivery: Delivery, target = delivery.target): Promise<PushResult> {
  const started = performance.now();
  const response = await fetch(target, { method: 'POST', headers: delivery.headers, body: delivery.body });
  const text = await response.text();
  return { status: response.status, body: parseOrUndefined(text), text, elapsedMs: performance.now() - started, delivery };
}

/** So a caller's `X-Lark-Signature` replaces the computed one instead of being sent beside it. */
const lowerCaseKeys = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
