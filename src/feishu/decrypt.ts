import { createDecipheriv } from 'node:crypto';
import { secretDigest } from './secret-digest';

/**
 * Feishu's push encryption: key = SHA-256 of the Encrypt Key string, the first 16 bytes of the decoded
 * data are the IV, AES-256-CBC with PKCS#7 padding, plaintext JSON. Throws on anything that is not that.
 */
export function decryptPush(encrypted: string, encryptKey: string): string {
  const data = Buffer.from(encrypted, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const key = secretDigest(encryptKey);
  const decipher = createDecipheriv('aes-256-cbc', key, data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
}
