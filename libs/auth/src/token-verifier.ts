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

export interface VerifiedTokenCacheOptions {
  /** How many verified tokens to remember (least recently used go first). */
  maxEntries: number;
  /**
   * How long a verified signature is trusted without checking it again (never past the token's
   * own expiry): a key withdrawn from the JWKS stops being honoured within this time.
   */
  maxAgeMs: number;
}

/** Services verifying identity's tokens over JWKS: a member's token is reused for many requests. */
export const DEFAULT_VERIFIED_TOKEN_CACHE: VerifiedTokenCacheOptions = {
  maxEntries: 10_000,
  maxAgeMs: 60_000,
};

/**
 * Verifies identity's access tokens locally against a key set: identity's JWKS endpoint in
 * other services, identity's own key store inside identity. Only ES256 is accepted.
 *
 * With a cache, a token whose signature and claims were verified is remembered for a while, so
 * the ES256 verification (the largest CPU cost of an authenticated request) runs once per token
 * rather than once per request. Only successes are cached; revocation is not this class's
 * business (see RevocationAwareVerifier, which asks on every request).
 */
export class JwtTokenVerifier implements TokenVerifier {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly cache?: VerifiedTokenCacheOptions,
  ) {}

  static fromJwksUrl(
    url: string,
    cache: VerifiedTokenCacheOptions | undefined = DEFAULT_VERIFIED_TOKEN_CACHE,
  ): JwtTokenVerifier {
    return new JwtTokenVerifier(
      createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000 }),
      cache,
    );
  }

  async verify(token: string): Promise<Principal> {
    if (!this.cache) return (await this.verifySignature(token)).principal;
    const now = Date.now();
    const hit = this.verified.get(token);
    if (hit) {
      this.verified.delete(token);
      if (hit.until > now) {
        this.verified.set(token, hit); // most recently used
        return { ...hit.principal, roles: [...hit.principal.roles] };
      }
    }
    const { principal, expiresAt } = await this.verifySignature(token);
    this.verified.set(token, {
      principal: { ...principal, roles: [...principal.roles] },
      until: Math.min(expiresAt, now + this.cache.maxAgeMs),
    });
    if (this.verified.size > this.cache.maxEntries)
      this.verified.delete(this.verified.keys().next().value as string);
    return principal;
  }

  private async verifySignature(
    token: string,
  ): Promise<{ principal: Principal; expiresAt: number }> {
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
      return { principal, expiresAt: (payload.exp as number) * 1000 };
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new UnauthorizedException('The access token has expired.', 'TOKEN_EXPIRED');
      }
      throw new UnauthorizedException('The access token is not valid.', 'TOKEN_INVALID');
    }
  }
}
