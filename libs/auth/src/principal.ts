import type { CorpId } from '@qiwei/persistence';

export const ROLES = ['super_admin', 'department_admin', 'compliance_officer', 'member'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Whom an app (自建应用) may read and address: members in these department subtrees, these
 * members, and the members and departments of these tags. Carried in the app's token so every
 * service can enforce it.
 */
export interface AppRange {
  departmentIds: number[];
  userids: string[];
  tagIds: number[];
}

/**
 * Who is calling: a member of one corp with their roles, or an app of the corp (then `app` is
 * set, `userId` is `app:<agentid>` and `roles` is empty). Every tenant query uses `corpId`.
 */
export interface Principal {
  corpId: CorpId;
  userId: string;
  roles: Role[];
  tokenId: string;
  issuedAt: Date;
  app?: { agentId: number; range: AppRange };
}

export const ACCESS_TOKEN_ISSUER = 'qiwei-identity';
export const ACCESS_TOKEN_AUDIENCE = 'qiwei';

/** The `sub` of an app's access token. */
export const appSubject = (agentId: number): string => `app:${agentId}`;
