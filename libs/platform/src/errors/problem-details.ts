import { HttpException, HttpStatus } from '@nestjs/common';
import { DomainException, type FieldError } from './domain.exception';

/** RFC 9457 problem details, with Qiwei's stable `code` and optional field errors. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://qiwei.dev/problems/';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

// Fastify's own errors (body parsing, limits) carry a code; give the common ones stable names.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

function titleOf(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  return name ? name.charAt(0) + name.slice(1).toLowerCase().replace(/_/g, ' ') : 'Error';
}

function problem(
  status: number,
  code: string,
  detail: string,
  errors?: FieldError[],
): ProblemDetails {
  return {
    type: `${TYPE_BASE}${code.toLowerCase().replace(/_/g, '-')}`,
    title: titleOf(status),
    status,
    code,
    detail,
    ...(errors?.length ? { errors } : {}),
  };
}

/** Turns anything thrown while serving a request into problem details; unknown errors are 500. */
export function toProblem(error: unknown): ProblemDetails {
  if (error instanceof DomainException) {
    return problem(error.status, error.code, error.message, error.errors);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const isUnknownRoute = status === 404 && /^Cannot [A-Z]+ /.test(error.message);
    return problem(
      status,
      isUnknownRoute ? 'ROUTE_NOT_FOUND' : (CODE_BY_STATUS[status] ?? 'HTTP_ERROR'),
      isUnknownRoute ? `No route matches ${error.message.replace(/^Cannot /, '')}.` : error.message,
    );
  }
  const candidate = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (
    typeof candidate?.statusCode === 'number' &&
    candidate.statusCode >= 400 &&
    candidate.statusCode < 500
  ) {
    const code =
      (typeof candidate.code === 'string' && FASTIFY_CODES[candidate.code]) ||
      CODE_BY_STATUS[candidate.statusCode] ||
      'BAD_REQUEST';
    const detail =
      typeof candidate.message === 'string' ? candidate.message : titleOf(candidate.statusCode);
    return problem(candidate.statusCode, code, detail);
  }
  return problem(500, 'INTERNAL_ERROR', 'An unexpected error occurred; it has been logged.');
}
