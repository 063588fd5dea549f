import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';

/** Who is acting in this request, for the audit log: set once per request, read by use cases. */
export interface RequestContext {
  actorType: 'member' | 'app' | 'platform' | 'anonymous';
  actorId: string | null;
  ip: string | null;
  requestId: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const currentRequestContext = (): RequestContext =>
  storage.getStore() ?? { actorType: 'anonymous', actorId: null, ip: null, requestId: null };

type AuthenticatedRequest = FastifyRequest & { principal?: { userId: string; app?: unknown } };

/** Runs the handler inside the request's context (after the guards have authenticated it). */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const isPlatform = !request.principal && /^Bearer\s/i.test(request.headers.authorization ?? '');
    const ctx: RequestContext = {
      actorType: request.principal
        ? request.principal.app
          ? 'app'
          : 'member'
        : isPlatform
          ? 'platform'
          : 'anonymous',
      actorId: request.principal?.userId ?? null,
      ip: request.ip ?? null,
      requestId: typeof request.id === 'string' ? request.id : null,
    };
    return new Observable((subscriber) =>
      storage.run(ctx, () => next.handle().subscribe(subscriber)),
    );
  }
}
