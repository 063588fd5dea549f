import { asCorpId } from '@qiwei/persistence';
import { UnauthorizedException } from '@qiwei/platform';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  ROLES,
  type Principal,
  type Role,
} from './principal';

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
      return {
        corpId: asCorpId(String(payload.corp_id)),
        userId: String(payload.sub),
        roles,
        tokenId: String(payload.jti),
        issuedAt: new Date((payload.iat ?? 0) * 1000),
      };
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new UnauthorizedException('The access token has expired.', 'TOKEN_EXPIRED');
      }
      throw new UnauthorizedException('The access token is not valid.', 'TOKEN_INVALID');
    }
  }
}
