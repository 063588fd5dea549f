import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DomainException } from '../errors/domain.exception';

/** A list's `limit` query parameter: 1 to `max` (`fallback` when absent, applied by the caller). */
export const PageLimit = (max: number, fallback: number) =>
  applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: max, default: fallback }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(max),
  );

/** A list's `cursor` query parameter: the `nextCursor` of the previous page. */
export const PageCursor = () =>
  applyDecorators(
    ApiPropertyOptional({ description: 'nextCursor of the previous page' }),
    IsOptional(),
    IsString(),
    MaxLength(512),
  );

/** `limit` and `cursor` of every keyset-paginated list. */
export class PageQuery {
  @PageLimit(1000, 100) limit?: number;
  @PageCursor() cursor?: string;
}

export const DEFAULT_PAGE_SIZE = 100;

export class InvalidCursorException extends DomainException {
  constructor() {
    super('INVALID_CURSOR', 400, 'The cursor is not one this endpoint returned.', [
      {
        field: 'cursor',
        code: 'INVALID_CURSOR',
        message: 'Pass back the nextCursor of the previous page.',
      },
    ]);
  }
}

/** Cursors are the last row's sort key, as base64url JSON: opaque to clients, checked on return. */
export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The sort key a cursor carries; undefined without a cursor; a forged one is refused. */
export function decodeCursor<T>(
  cursor: string | undefined,
  isValid: (value: unknown) => value is T,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // not JSON: forged
  }
  throw new InvalidCursorException();
}
