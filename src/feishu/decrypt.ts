import { type KeyObject, createDecipheriv, createSecretKey } from 'node:crypto';
import { secretDigest } from './secret-digest';

/**
 * Feishu's push encryption: key = SHA-256 of the Encrypt Key string, the first 16 bytes of the decoded
 * data are the IV, AES-256-CBC with PKCS#7 padding, plaintext JSON. Throws on anything that is not that.
 */
export function decryptPush(encrypted: string, encryptKey: string): string {
  const data = Buffer.from(encrypted, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const decipher = createDecipheriv('aes-256-cbc', keyObject(encryptKey), data.subarray(0, 16));
  // Decoded as it is deciphered: the decoder keeps a character split across the two parts whole.
  return decipher.update(data.subarray(16), undefined, 'utf8') + decipher.final('utf8');
}

/** The key as a KeyObject, made once per Encrypt Key: from raw bytes, each decipher would import the key again. */
const keys = new Map<string, KeyObject>();

function keyObject(encryptKey: string): KeyObject {
  let key = keys.get(encryptKey);
  if (!key) {
    key = createSecretKey(secretDigest(encryptKey));
    keys.set(encryptKey, key);
  }
  return key;
}
