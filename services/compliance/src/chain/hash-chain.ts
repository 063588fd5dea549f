import { createHash } from 'node:crypto';

/** A chain's first record links to 32 zero bytes. */
export const GENESIS_HASH = Buffer.alloc(32);

type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

/**
 * JSON with object keys sorted at every level and no whitespace: the same record always
 * serialises to the same bytes, whichever order its fields were assembled or read back in.
 */
export function canonicalJson(value: Canonical): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
}

/** SHA-256 over the previous link's hash and the record's canonical form. */
export function linkHash(prevHash: Buffer, canonical: string): Buffer {
  return createHash('sha256').update(prevHash).update(canonical, 'utf8').digest();
}

export type { Canonical };
