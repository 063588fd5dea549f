/**
 * A corp (tenant) id. Branded so that a user id or any other string cannot be passed where a
 * tenant is required: repository methods on tenant data take a `CorpId` as their first
 * parameter, and forgetting it is a type error.
 */
export type CorpId = string & { readonly __brand: 'CorpId' };

export const CORP_ID_PATTERN = /^ww[0-9a-f]{16}$/;

export function asCorpId(value: string): CorpId {
  if (!CORP_ID_PATTERN.test(value)) throw new Error(`Not a corp id: ${value}`);
  return value as CorpId;
}

/** Every tenant-owned row carries its corp. */
export interface TenantOwned {
  corpId: string;
}
