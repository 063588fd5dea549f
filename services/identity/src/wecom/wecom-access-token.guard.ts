import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { TOKEN_VERIFIER, type Principal, type TokenVerifier } from '@qiwei/auth';
import { DomainException, UnauthorizedException } from '@qiwei/platform';
import type { FastifyRequest } from 'fastify';
import { AccessTokenMissingException, AppTokenRequiredException } from './wecom.exceptions';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/**
 * WeCom's authentication: the app's token in `?access_token=`, verified like a bearer token
 * (signature, expiry, revocation by secret rotation or deletion). Sets `request.principal`, so
 * `CurrentAccess` and the audit log's request context see the app as the actor.
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
    if (!principal.app) throw new AppTokenRequiredException();
    request.principal = principal;
    // Bodies are JSON; content types the app parses as raw bytes for other routes (the member
    // import's sheets) answer as any non-JSON body does.
    if (Buffer.isBuffer(request.body))
      throw new DomainException(
        'UNSUPPORTED_MEDIA_TYPE',
        415,
        'Send the body as application/json.',
      );
    return true;
  }
}
