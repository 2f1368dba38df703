import { hash } from 'node:crypto';

/**
 * SHA-256 of a configured secret (the Encrypt Key, the Verification Token), computed once per secret: both are
 * needed on every push and never change while the bot runs. Only configured values come here, so the map stays
 * as small as the configuration.
 */
const digests = new Map<string, Buffer>();

export function secretDigest(secret: string): Buffer {
  let digest = digests.get(secret);
  if (!digest) {
    digest = hash('sha256', secret, 'buffer');
    digests.set(secret, digest);
  }
  return digest;
}
