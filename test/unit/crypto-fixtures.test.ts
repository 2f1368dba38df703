import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decryptPush } from '../../src/feishu/decrypt';
import { verifyPush } from '../../src/feishu/verify';
import { authRefusal } from '../support/auth-refusal';

/**
 * Official vectors, replayed through the bot's own decrypter and verifier: the documentation's examples and the
 * encrypted challenges of Feishu's SDK test suites (`test/fixtures/crypto/`, each file naming its source). Unlike
 * the round trips elsewhere, these were encrypted by Feishu's code, not ours.
 */

interface Fixture {
  source: string;
  encryptKey: string;
  encrypt: string;
  plaintext: string;
  verificationToken?: string;
  challenge?: string;
  signedWith?: { timestamp: string; nonce: string };
}

const dir = new URL('../fixtures/crypto/', import.meta.url);
const fixtures = Object.fromEntries(
  readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Fixture]),
);
const fixture = (name: string): Fixture => {
  const found = fixtures[name];
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
};

const NOW = 1_800_000_000_000;
const unsigned = (f: Fixture) => ({
  rawBody: Buffer.from(JSON.stringify({ encrypt: f.encrypt })),
  headers: {},
  encryptKey: f.encryptKey,
  verificationToken: f.verificationToken ?? 'unused',
  nowMs: NOW,
  replayWindowMs: 300_000,
});

describe('official decryption vectors', () => {
  it('holds every fixture the folder has, each naming its source', () => {
    expect(Object.keys(fixtures).sort()).toEqual([
      'doc-encrypted-event',
      'doc-test-key-hello-world',
      'go-sdk-challenge-schema-2',
      'java-sdk-not-a-challenge',
      'node-sdk-challenge',
    ]);
    for (const f of Object.values(fixtures)) expect(f.source.length).toBeGreaterThan(40);
  });

  it.each(Object.entries(fixtures))('%s decrypts to its published plaintext', (_name, f) => {
    expect(decryptPush(f.encrypt, f.encryptKey)).toBe(f.plaintext);
  });

  it('does not decrypt the documentation example with another key', () => {
    const f = fixture('doc-test-key-hello-world');
    expect(() => decryptPush(f.encrypt, 'test-key')).toThrow();
  });
});

describe("the SDKs' encrypted challenges, through the verifier", () => {
  it('answers the Node SDK challenge, unsigned as Feishu sends it', () => {
    const f = fixture('node-sdk-challenge');
    expect(verifyPush(unsigned(f))).toEqual({ kind: 'challenge', challenge: f.challenge });
  });

  it('answers the Go SDK challenge, whose token sits in header.token (schema 2.0)', () => {
    const f = fixture('go-sdk-challenge-schema-2');
    expect(verifyPush(unsigned(f))).toEqual({ kind: 'challenge', challenge: '1212' });
  });

  it('refuses each challenge with another verification token', () => {
    for (const name of ['node-sdk-challenge', 'go-sdk-challenge-schema-2']) {
      expect(
        authRefusal(() => verifyPush({ ...unsigned(fixture(name)), verificationToken: 'another-token' })),
        name,
      ).toBe('bad-token');
    }
  });

  it('refuses the Java SDK body unsigned: "url_verification1" is not a challenge', () => {
    expect(authRefusal(() => verifyPush(unsigned(fixture('java-sdk-not-a-challenge'))))).toBe('not-a-challenge');
  });

  it('checks the Java SDK dispatcher test\'s signature over the raw body, but refuses its timestamp "timestamp"', () => {
    // The SDKs sign with the documented formula and check no age; the bot also needs a timestamp it can age.
    const f = fixture('java-sdk-not-a-challenge');
    const body = JSON.stringify({ encrypt: f.encrypt });
    const sign = (timestamp: string) => createHash('sha256').update(`${timestamp}${f.signedWith?.nonce}${f.encryptKey}${body}`).digest('hex');
    const push = (timestamp: string) => ({
      ...unsigned(f),
      rawBody: Buffer.from(body),
      headers: { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': f.signedWith?.nonce, 'x-lark-signature': sign(timestamp) },
    });
    expect(authRefusal(() => verifyPush(push(f.signedWith?.timestamp as string)))).toBe('stale');
    // The same body signed the same way at a real time is accepted, and its payload is the published plaintext.
    const verified = verifyPush(push(String(NOW / 1000)));
    expect(verified).toEqual({ kind: 'payload', payload: JSON.parse(f.plaintext) });
  });
});
