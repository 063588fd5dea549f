import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  JwtTokenVerifier,
  type Principal,
  type Role,
} from '@qiwei/auth';
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
  readonly verifier: JwtTokenVerifier;

  constructor(
    private readonly keys: SigningKeysService,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {
    this.verifier = new JwtTokenVerifier(async (header) => {
      const key = header.kid ? await this.keys.publicKey(header.kid) : undefined;
      if (!key) throw new Error('unknown signing key');
      return key;
    });
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
      .setIssuedAt()
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
