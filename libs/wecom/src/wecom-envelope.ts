import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '@qiwei/platform';
import type { FastifyInstance } from 'fastify';
import type { WecomError } from './wecom-errors';

export const WECOM_PREFIX = '/cgi-bin/';

/**
 * WeCom answers every call with HTTP 200 and `{errcode, errmsg}`. Errors under /cgi-bin are
 * turned into that envelope by this hook, after the platform's one filter made them
 * problem+json — whatever raised them: a guard, validation, a use case, or Fastify's body parser
 * (malformed JSON, oversized bodies), which runs before any Nest filter could see the request.
 */
export function installWecomEnvelope(
  fastify: FastifyInstance,
  toWecomError: (problem: ProblemDetails) => WecomError,
): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (
      !request.url.startsWith(WECOM_PREFIX) ||
      typeof type !== 'string' ||
      !type.startsWith(PROBLEM_CONTENT_TYPE) ||
      typeof payload !== 'string'
    ) {
      return payload;
    }
    void reply.status(200).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(toWecomError(JSON.parse(payload) as ProblemDetails));
  });
}
