import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptPush } from '../../src/feishu/decrypt';

/**
 * decryptPush hands every push to one CBC decipher per Encrypt Key, IV first (see its comment). Its answers must be
 * OpenSSL's answers with a fresh decipher per push for any plaintext and key, pushes for two keys interleaved, large
 * and small pushes taking turns, and a bad padding a refusal.
 */

const keyOf = (encryptKey: string) => createHash('sha256').update(encryptKey).digest();

/** Encrypted as Feishu does: base64 of IV + AES-256-CBC with PKCS#7 padding. */
function encrypt(plaintext: string, encryptKey: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** Blocks encrypted with no padding added, so that the last block's padding bytes are whatever `blocks` hold. */
function encryptRaw(blocks: Buffer, encryptKey: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv).setAutoPadding(false);
  return Buffer.concat([iv, cipher.update(blocks), cipher.final()]).toString('base64');
}

describe('decrypting a push', () => {
  it('gives back every plaintext of any length, for two keys taking turns', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 80 }), fc.boolean()), { minLength: 1, maxLength: 6 }), (pushes) => {
        const sealed = pushes.map(([text, first]) => ({ text, key: first ? 'key one' : 'key two', encrypted: encrypt(text, first ? 'key one' : 'key two') }));
        for (const { text, key, encrypted } of sealed) expect(decryptPush(encrypted, key)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('decrypts a push larger than any before it, and the small ones around it', () => {
    const large = `{"text":"${'长'.repeat(60_000)}"}`;
    for (const text of ['{"a":1}', large, '{"b":2}', large]) expect(decryptPush(encrypt(text, 'k'), 'k')).toBe(text);
  });

  it('keeps a character whose bytes span two blocks whole, and a plaintext of whole blocks gets a block of padding', () => {
    const text = `${'a'.repeat(15)}长${'b'.repeat(14)}`;
    expect(Buffer.byteLength(text)).toBe(32);
    expect(Buffer.from(encrypt(text, 'k'), 'base64')).toHaveLength(16 + 48);
    expect(decryptPush(encrypt(text, 'k'), 'k')).toBe(text);
  });

  it('refuses a padding that PKCS#7 never makes, and decrypts the next push all the same', () => {
    const block = (last: number[]) => Buffer.concat([Buffer.alloc(16 - last.length, 0x41), Buffer.from(last)]);
    for (const last of [[0], [17], [0xff], [2, 3], [4, 4, 5, 4]]) {
      expect(() => decryptPush(encryptRaw(block(last), 'k'), 'k')).toThrow('bad padding');
    }
    expect(decryptPush(encryptRaw(block([3, 3, 3]), 'k'), 'k')).toBe('A'.repeat(13));
    expect(decryptPush(encrypt('{"ok":true}', 'k'), 'k')).toBe('{"ok":true}');
  });

  it('refuses a ciphertext that is not whole blocks after its IV', () => {
    expect(() => decryptPush(randomBytes(16 + 15).toString('base64'), 'k')).toThrow('wrong length');
    expect(() => decryptPush(randomBytes(16).toString('base64'), 'k')).toThrow('wrong length');
  });
});
