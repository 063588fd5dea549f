import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenException, UnauthorizedException } from '@qiwei/platform';
import type { FastifyRequest } from 'fastify';
import type { Principal, Role } from './principal';
import { TOKEN_VERIFIER, type TokenVerifier } from './token-verifier';

export const PLATFORM_TOKEN = Symbol('PLATFORM_TOKEN');
const REQUIRED_ROLES = 'qiwei:required-roles';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new UnauthorizedException('Send `Authorization: Bearer <token>`.');
  return match[1];
}

/** Any one of these roles is enough. */
export const RequireRoles = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);

/** Authenticates the identity access token and checks `@RequireRoles`. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.verifier.verify(bearerToken(request));
    request.principal = principal;
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (required?.length && !required.some((role) => principal.roles.includes(role))) {
      throw new ForbiddenException(
        `This needs one of the roles: ${required.join(', ')}.`,
        'ROLE_REQUIRED',
      );
    }
    return true;
  }
}

/** The platform operator's token (from configuration), for operations above any corp. */
@Injectable()
export class PlatformAdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(PLATFORM_TOKEN) platformToken: string) {
    this.expected = createHash('sha256').update(platformToken).digest();
  }

  canActivate(context: ExecutionContext): boolean {
    const token = bearerToken(context.switchToHttp().getRequest<FastifyRequest>());
    const given = createHash('sha256').update(token).digest();
    if (!timingSafeEqual(given, this.expected)) {
      throw new UnauthorizedException(
        'The platform admin token is not valid.',
        'PLATFORM_TOKEN_INVALID',
      );
    }
    return true;
  }
}

/** The authenticated caller, as set by `BearerAuthGuard`. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new UnauthorizedException();
    return principal;
  },
);
