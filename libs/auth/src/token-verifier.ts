import { asCorpId } from '@qiwei/persistence';
import { UnauthorizedException } from '@qiwei/platform';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  appSubject,
  ROLES,
  type AppRange,
  type Principal,
  type Role,
} from './principal';

const isIntArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => Number.isSafeInteger(x));
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

function appRangeOf(claim: unknown): AppRange | undefined {
  if (typeof claim !== 'object' || claim === null) return undefined;
  const { departmentIds, userids, tagIds } = claim as Record<string, unknown>;
  if (!isIntArray(departmentIds) || !isStringArray(userids) || !isIntArray(tagIds))
    return undefined;
  return { departmentIds, userids, tagIds };
}

/** The precise `iat_ms` when it agrees with the whole-second `iat`, else `iat`. */
function issuedAtMs(iat: number | undefined, iatMs: unknown): number {
  const seconds = (iat ?? 0) * 1000;
  return typeof iatMs === 'number' && Math.floor(iatMs / 1000) * 1000 === seconds ? iatMs : seconds;
}

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

export interface TokenVerifier {
  /** Resolves the principal, or throws `UnauthorizedException`. */
  verify(token: string): Promise<Principal>;
}

/**
 * Verifies identity's access tokens locally against a key set: identity's JWKS endpoint in
 * other services, identity's own key store inside identity. Only ES256 is accepted.
 */
export class JwtTokenVerifier implements TokenVerifier {
  constructor(private readonly keys: JWTVerifyGetKey) {}

  static fromJwksUrl(url: string): JwtTokenVerifier {
    return new JwtTokenVerifier(createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000 }));
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: ['ES256'],
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'corp_id'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r as string))
        : [];
      const principal: Principal = {
        corpId: asCorpId(String(payload.corp_id)),
        userId: String(payload.sub),
        roles,
        tokenId: String(payload.jti),
        issuedAt: new Date(issuedAtMs(payload.iat, payload.iat_ms)),
      };
      if (payload.agentid !== undefined) {
        const agentId = Number(payload.agentid);
        const range = appRangeOf(payload.range);
        // An app token never carries member roles, and its subject names the app.
        if (!Number.isSafeInteger(agentId) || !range || principal.userId !== appSubject(agentId))
          throw new Error('malformed app token');
        principal.roles = [];
        principal.app = { agentId, range };
      }
      return principal;
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new UnauthorizedException('The access token has expired.', 'TOKEN_EXPIRED');
      }
      throw new UnauthorizedException('The access token is not valid.', 'TOKEN_INVALID');
    }
  }
}
