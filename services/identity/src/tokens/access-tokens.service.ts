import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  JwtTokenVerifier,
  type Principal,
  type Role,
  type TokenVerifier,
} from '@qiwei/auth';
import { UnauthorizedException } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { SigningKeysService } from './signing-keys.service';

export interface IssuedAccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Issues access tokens (short-lived ES256 JWTs) and verifies them against identity's own keys. */
@Injectable()
export class AccessTokensService {
  readonly verifier: TokenVerifier;

  constructor(
    private readonly keys: SigningKeysService,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    private readonly dataSource: DataSource,
  ) {
    const signature = new JwtTokenVerifier(async (header) => {
      const key = header.kid ? await this.keys.publicKey(header.kid) : undefined;
      if (!key) throw new Error('unknown signing key');
      return key;
    });
    // Identity also knows whether the member may still act: a disabled, departed or deleted
    // member's tokens stop working at once, not at expiry.
    this.verifier = {
      verify: async (token: string) => {
        const principal = await signature.verify(token);
        const [member] = await this.dataSource.query<
          { status: string; tokens_valid_after: Date | null }[]
        >('SELECT status, tokens_valid_after FROM members WHERE corp_id = $1 AND userid = $2', [
          principal.corpId,
          principal.userId,
        ]);
        const revoked =
          !member ||
          member.status !== 'active' ||
          (member.tokens_valid_after !== null &&
            principal.issuedAt.getTime() < member.tokens_valid_after.getTime());
        if (revoked)
          throw new UnauthorizedException('This access token has been revoked.', 'TOKEN_REVOKED');
        return principal;
      },
    };
  }

  async issue(subject: {
    corpId: string;
    userId: string;
    roles: Role[];
  }): Promise<IssuedAccessToken> {
    const { kid, privateKey } = this.keys.activeKey();
    const expiresIn = this.config.ACCESS_TOKEN_TTL_SECONDS;
    const accessToken = await new SignJWT({ corp_id: subject.corpId, roles: subject.roles })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(subject.userId)
      .setJti(randomUUID())
      // Millisecond precision, so a token issued right after a revocation (tokens_valid_after)
      // works and one issued right before does not (NumericDate may be fractional, RFC 7519).
      .setIssuedAt(Date.now() / 1000)
      .setExpirationTime(`${expiresIn}s`)
      .sign(privateKey);
    return { accessToken, tokenType: 'Bearer', expiresIn };
  }

  verify(token: string): Promise<Principal> {
    return this.verifier.verify(token);
  }

  /** The kid a token claims to be signed with (for diagnostics and rotation tests). */
  static keyIdOf(token: string): string | undefined {
    return decodeProtectedHeader(token).kid;
  }
}
