import { createHash, randomBytes } from 'node:crypto';

const COUNT = 10;

/** 80-bit one-time codes, `xxxxx-xxxxx-xxxxx-xxxxx` (hex), shown once and stored hashed. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: COUNT }, () =>
    (randomBytes(10).toString('hex').match(/.{5}/g) ?? []).join('-'),
  );
}

/** The stored form: SHA-256 of the code without separators, in lower case. */
export const recoveryCodeHash = (code: string) =>
  createHash('sha256').update(code.replace(/[-\s]/g, '').toLowerCase()).digest('hex');

export const RECOVERY_CODE_PATTERN = /^[0-9a-fA-F]{5}(-?[0-9a-fA-F]{5}){3}$/;
