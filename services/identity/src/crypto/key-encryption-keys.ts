import { z } from 'zod';

/** One key-encryption key (KEK): AES-256, named so a sealed value says which key sealed it. */
export interface KeyEncryptionKey {
  id: string;
  key: Buffer;
}

export const KEY_ENCRYPTION_KEY_VARIABLE = 'IDENTITY_KEY_ENCRYPTION_KEY';
const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * `IDENTITY_KEY_ENCRYPTION_KEY`: `<id>:<32 bytes in base64>`, or several separated by commas.
 * The first seals new secrets; the others still open what they sealed (rotation).
 */
export const keyEncryptionKeysSchema = z.string().transform((value, ctx): KeyEncryptionKey[] => {
  const keys: KeyEncryptionKey[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    const key = Buffer.from(encoded, 'base64');
    let problem: string | undefined;
    if (separator < 0 || !ID_PATTERN.test(id))
      problem = 'each key is `<id>:<base64>`, the id 1–32 of A-Z a-z 0-9 _ -';
    else if (!BASE64_PATTERN.test(encoded) || key.length !== 32)
      problem = `key "${id}" must be 32 random bytes in base64 (openssl rand -base64 32)`;
    else if (keys.some((k) => k.id === id)) problem = `key id "${id}" is listed twice`;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  return keys;
});
