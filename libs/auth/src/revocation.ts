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
  ) {}

  async verify(token: string): Promise<Principal> {
    const principal = await this.signature.verify(token);
    if (principal.app) return principal;
    const standing = await this.standing(principal.corpId, principal.userId);
    const revoked =
      standing !== null &&
      (standing.status !== 'active' ||
        (standing.tokensValidAfter !== null &&
          principal.issuedAt.getTime() < standing.tokensValidAfter.getTime()));
    if (revoked)
      throw new UnauthorizedException('This access token has been revoked.', 'TOKEN_REVOKED');
    return principal;
  }
}
