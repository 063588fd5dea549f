import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { TOKEN_VERIFIER, type Principal, type TokenVerifier } from '@qiwei/auth';
import { UnauthorizedException } from '@qiwei/platform';
import type { FastifyRequest } from 'fastify';
import { AccessTokenMissingException, AppAccessTokenRequiredException } from './wecom.exceptions';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/**
 * WeCom's authentication: the app's token (from identity's /cgi-bin/gettoken) in
 * `?access_token=`, verified by the same verifier as /v1's bearer tokens — identity's JWKS,
 * expiry, and revocation when the app's secret is rotated or the app deleted. Only app tokens
 * pass. Sets `request.principal` for `CurrentPrincipal`.
 */
@Injectable()
export class WecomAccessTokenGuard implements CanActivate {
  constructor(@Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = (request.query as Record<string, unknown>).access_token;
    if (token === undefined || token === '') throw new AccessTokenMissingException();
    if (typeof token !== 'string')
      throw new UnauthorizedException('Pass one access_token.', 'TOKEN_INVALID');
    const principal = await this.verifier.verify(token);
    if (!principal.app) throw new AppAccessTokenRequiredException();
    request.principal = principal;
    return true;
  }
}
