import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export interface SigningKey {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Parses `<id>:<base64 seed>[,<id>:<seed>…]` (one Ed25519 seed of 32 bytes each, as made by
 * `openssl rand -base64 32`). Throws a message fit for the start-up error.
 */
export function parseSigningKeys(value: string): SigningKey[] {
  const entries = value.split(',').map((e) => e.trim());
  if (!entries.length || entries.some((e) => !e))
    throw new Error('must be <id>:<base64 32-byte seed>[,<id>:<seed>…]');
  const seen = new Set<string>();
  return entries.map((entry) => {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=]+)$/.exec(entry);
    if (!match) throw new Error('each key must be <id>:<base64 32-byte seed>');
    const [, id, base64] = match;
    if (seen.has(id)) throw new Error(`key id ${id} is listed twice`);
    seen.add(id);
    const seed = Buffer.from(base64, 'base64');
    if (seed.length !== 32)
      throw new Error(`key ${id} must be 32 bytes (base64), not ${seed.length}`);
    const privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    return { id, privateKey, publicKey: createPublicKey(privateKey) };
  });
}

/** What a signed head asserts, byte for byte. */
export const signedHeadText = (head: {
  corpId: string;
  chain: string;
  chainSeq: number;
  hash: Buffer;
  signedAt: Date;
}): Buffer =>
  Buffer.from(
    `qiwei-archive-head/v1\n${head.corpId}\n${head.chain}\n${head.chainSeq}\n${head.hash.toString('hex')}\n${head.signedAt.toISOString()}`,
  );

export const signWith = (key: SigningKey, message: Buffer): Buffer =>
  sign(null, message, key.privateKey);

export const verifyWith = (key: SigningKey, message: Buffer, signature: Buffer): boolean =>
  verify(null, message, key.publicKey, signature);
