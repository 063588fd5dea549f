import { UnauthorizedException } from '@qiwei/platform';
import type { Principal } from './principal';
import type { TokenVerifier } from './token-verifier';

/** What a service knows about a member from identity's member events. */
export interface MemberStanding {
  status: string;
  tokensValidAfter: Date | null;
}

export type MemberStandingLookup = (
  corpId: string,
  userid: string,
) => Promise<MemberStanding | null>;

/** What a service knows about an app from identity's app events. */
export interface AppStanding {
  deleted: boolean;
  tokensValidAfter: Date | null;
}

export type AppStandingLookup = (corpId: string, agentId: number) => Promise<AppStanding | null>;

/**
 * Wraps a signature verifier so a member's tokens stop working as soon as the service has
 * learnt (from `qiwei.identity.member.v1`) that the member was disabled, left, was deleted
 * (`status` `deleted`) or had their roles changed (`tokensValidAfter`) — not at expiry. A
 * member the service has not heard of yet passes: their creation event may still be on its way,
 * and use cases check membership on their own.
 */
export class RevocationAwareVerifier implements TokenVerifier {
  constructor(
    private readonly signature: TokenVerifier,
    private readonly standing: MemberStandingLookup,
    /** Apps: a deleted app's tokens, and those from before a secret rotation, stop working. */
    private readonly appStanding?: AppStandingLookup,
  ) {}

  async verify(token: string): Promise<Principal> {
    const principal = await this.signature.verify(token);
    const issued = principal.issuedAt.getTime();
    let revoked: boolean;
    if (principal.app) {
      const app = (await this.appStanding?.(principal.corpId, principal.app.agentId)) ?? null;
      revoked =
        app !== null &&
        (app.deleted || (app.tokensValidAfter !== null && issued < app.tokensValidAfter.getTime()));
    } else {
      const standing = await this.standing(principal.corpId, principal.userId);
      revoked =
        standing !== null &&
        (standing.status !== 'active' ||
          (standing.tokensValidAfter !== null && issued < standing.tokensValidAfter.getTime()));
    }
    if (revoked)
      throw new UnauthorizedException('This access token has been revoked.', 'TOKEN_REVOKED');
    return principal;
  }
}
