import { createHash } from 'node:crypto';
import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { DomainException, ValidationFailedException } from '@qiwei/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const RETENTION = '24 hours';
// A request still "in progress" after this long died with its process; it may run again.
const ABANDONED_AFTER = '5 minutes';

/** The table behind `Idempotency-Key`; add this migration to the service's list. */
export class CreateIdempotencyKeys1763900000000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1763900000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status int,
        response text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
    await q.query('CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
  }
}

class IdempotencyKeyReusedException extends DomainException {
  constructor() {
    super('IDEMPOTENCY_KEY_REUSED', 422, 'This Idempotency-Key was used for a different request.');
  }
}

class IdempotencyKeyInProgressException extends DomainException {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_IN_PROGRESS',
      409,
      'A request with this Idempotency-Key is still being processed.',
    );
  }
}

type KeyedRequest = FastifyRequest & { principal?: { corpId: string; userId: string } };

/**
 * Creating calls accept an `Idempotency-Key`: the first request with a key runs and its
 * response is kept for a day; a retry with the same key and body gets that response again
 * (`Idempotent-Replayed: true`) and changes nothing; the same key with another body is refused.
 * Keys are scoped to the caller (corp and member, or the platform operator).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly dataSource: DataSource) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.handle(context, next));
  }

  private async handle(context: ExecutionContext, next: CallHandler): Promise<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<KeyedRequest>();
    const reply = http.getResponse<FastifyReply>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return lastValueFrom(next.handle());
    if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
      throw new ValidationFailedException([
        {
          field: 'Idempotency-Key',
          code: 'IDEMPOTENCY_KEY_INVALID',
          message: '1–255 visible ASCII characters',
        },
      ]);
    }
    const scope = request.principal
      ? `${request.principal.corpId}/${request.principal.userId}`
      : 'platform';
    const hash = createHash('sha256')
      .update(
        `${request.method} ${request.routeOptions.url ?? request.url}\n${JSON.stringify(request.params)}\n`,
      )
      .update(JSON.stringify(request.body ?? null))
      .digest('hex');

    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE created_at < now() - interval '${RETENTION}'`,
    );
    const claimed = await this.dataSource.query<unknown[]>(
      `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (scope, key) DO UPDATE SET created_at = now()
         WHERE idempotency_keys.status IS NULL
           AND idempotency_keys.request_hash = EXCLUDED.request_hash
           AND idempotency_keys.created_at < now() - interval '${ABANDONED_AFTER}'
       RETURNING 1`,
      [scope, header, hash],
    );
    if (claimed.length === 0) {
      const [stored] = await this.dataSource.query<
        { request_hash: string; status: number | null; response: string | null }[]
      >(
        'SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [scope, header],
      );
      if (!stored || stored.request_hash !== hash) throw new IdempotencyKeyReusedException();
      if (stored.status === null) throw new IdempotencyKeyInProgressException();
      void reply.status(stored.status).header('idempotent-replayed', 'true');
      return stored.response === null ? undefined : (JSON.parse(stored.response) as unknown);
    }
    try {
      const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
      await this.dataSource.query(
        'UPDATE idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2',
        [scope, header, reply.statusCode, body === undefined ? null : JSON.stringify(body)],
      );
      return body;
    } catch (error) {
      // A refused or failed request did nothing: the key is free for a corrected retry.
      await this.dataSource.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2', [
        scope,
        header,
      ]);
      throw error;
    }
  }
}

/** Marks a creating endpoint as accepting `Idempotency-Key`. */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Retry safely: the same key and body within 24 h returns the first response and changes nothing.',
    }),
  );
