import { type Decipher, createDecipheriv, createSecretKey, hash } from 'node:crypto';
import { reusedBuffer } from './reused-buffer';

/**
 * Feishu's push encryption: key = SHA-256 of the Encrypt Key string, the first 16 bytes of the decoded
 * data are the IV, AES-256-CBC with PKCS#7 padding, plaintext JSON. Throws on anything that is not that.
 *
 * One CBC decipher per Encrypt Key serves every push: making one per push (the cipher context and the AES key
 * schedule, since Node takes the IV only when it makes one) was a third of the decryption's time. A CBC decipher's
 * only state between calls is the last ciphertext block it was handed, which it XORs into the next block's
 * decryption. So each push is handed over whole, IV first: the IV's own output block (the previous push's last block
 * XORed with the IV's decryption) is dropped, and the blocks after it are deciphered with the push's own IV. Padding
 * is off (a whole number of blocks goes in, as many come out) and checked here.
 */
export function decryptPush(encrypted: string, encryptKey: string): string {
  const data = decodedBase64(encrypted);
  if (data.length < 32 || data.length % 16 !== 0) throw new Error('ciphertext has the wrong length');
  const plain = chainedDecipher(encryptKey).update(data);
  const length = plain.length;
  const padding = plain[length - 1] as number;
  if (padding < 1 || padding > 16) throw new Error('bad padding');
  for (let i = length - padding; i < length - 1; i++) if (plain[i] !== padding) throw new Error('bad padding');
  return plain.toString('utf8', 16, length - padding);
}

/** AES-256-CBC decryption with the key's schedule made once per Encrypt Key; the IV it is made with is never used. */
const deciphers = new Map<string, Decipher>();

function chainedDecipher(encryptKey: string): Decipher {
  let decipher = deciphers.get(encryptKey);
  if (!decipher) {
    decipher = createDecipheriv('aes-256-cbc', createSecretKey(hash('sha256', encryptKey, 'buffer')), Buffer.alloc(16)).setAutoPadding(false);
    deciphers.set(encryptKey, decipher);
  }
  return decipher;
}

/** The ciphertext is decoded into a buffer kept for the purpose; the decipher's output is a buffer of its own. */
const decodeBuffer = reusedBuffer(16 * 1024);

function decodedBase64(encrypted: string): Buffer {
  const buffer = decodeBuffer(Math.ceil((encrypted.length * 3) / 4));
  return buffer.subarray(0, buffer.write(encrypted, 'base64'));
}
