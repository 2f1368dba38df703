import { createDecipheriv, createHash } from 'node:crypto';

/** A bot has one Encrypt Key; deriving the AES key once spares a hash on every push. */
let derived: { encryptKey: string; key: Buffer } | undefined;

function keyFor(encryptKey: string): Buffer {
  if (derived?.encryptKey !== encryptKey) derived = { encryptKey, key: createHash('sha256').update(encryptKey).digest() };
  return derived.key;
}

/**
 * Feishu's push encryption: key = SHA-256 of the Encrypt Key string, the first 16 bytes of the decoded
 * data are the IV, AES-256-CBC with PKCS#7 padding, plaintext JSON. Throws on anything that is not that.
 */
export function decryptPush(encrypted: string, encryptKey: string): string {
  const data = Buffer.from(encrypted, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const key = keyFor(encryptKey);
  const decipher = createDecipheriv('aes-256-cbc', key, data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
}
