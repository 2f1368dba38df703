import { type Decipher, createDecipheriv, createSecretKey } from 'node:crypto';
import { secretDigest } from './secret-digest';

/**
 * Feishu's push encryption: key = SHA-256 of the Encrypt Key string, the first 16 bytes of the decoded
 * data are the IV, AES-256-CBC with PKCS#7 padding, plaintext JSON. Throws on anything that is not that.
 *
 * CBC is done here as OpenSSL's AES block decryption (ECB, no padding) of every block, each then XORed with the
 * ciphertext block before it (the IV for the first), and the padding checked here. That is all CBC decryption is,
 * and it lets one decipher per Encrypt Key serve every push: a CBC decipher is made per IV, so per push, and making
 * one (the cipher context and the AES key schedule) was a third of the decryption's time. ECB keeps no state from
 * one block to the next, and every call hands it whole blocks, so no push's bytes carry over into another's.
 */
export function decryptPush(encrypted: string, encryptKey: string): string {
  const data = Buffer.from(encrypted, 'base64');
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const plain = blockDecipher(encryptKey).update(data.subarray(16));
  const length = plain.length;
  for (let i = 0; i < length; i++) plain[i] = (plain[i] as number) ^ (data[i] as number);
  const padding = plain[length - 1] as number;
  if (padding < 1 || padding > 16) throw new Error('bad padding');
  for (let i = length - padding; i < length - 1; i++) if (plain[i] !== padding) throw new Error('bad padding');
  return plain.toString('utf8', 0, length - padding);
}

/** AES-256 block decryption with the key's schedule made once per Encrypt Key. */
const deciphers = new Map<string, Decipher>();

function blockDecipher(encryptKey: string): Decipher {
  let decipher = deciphers.get(encryptKey);
  if (!decipher) {
    decipher = createDecipheriv('aes-256-ecb', createSecretKey(secretDigest(encryptKey)), null).setAutoPadding(false);
    deciphers.set(encryptKey, decipher);
  }
  return decipher;
}
