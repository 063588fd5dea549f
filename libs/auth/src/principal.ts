import type { CorpId } from '@qiwei/persistence';

export const ROLES = ['super_admin', 'department_admin', 'compliance_officer', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a member of one corp, with their roles. Every tenant query uses `corpId`. */
export interface Principal {
  corpId: CorpId;
  userId: string;
  roles: Role[];
  tokenId: string;
  issuedAt: Date;
}

export const ACCESS_TOKEN_ISSUER = 'qiwei-identity';
export const ACCESS_TOKEN_AUDIENCE = 'qiwei';
