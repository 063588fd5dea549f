import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '@qiwei/platform';
import type { FastifyInstance } from 'fastify';
import { toWecomError } from './wecom-errors';

export const WECOM_PREFIX = '/cgi-bin/';

/**
 * WeCom answers every call with HTTP 200 and `{errcode, errmsg}`. Errors under /cgi-bin are
 * turned into that envelope here, after the platform's one filter made them problem+json —
 * whatever raised them: the token guard, validation, a use case, or Fastify's body parser
 * (malformed JSON, oversized bodies), which runs before any Nest filter could see the request.
 */
@Injectable()
export class WecomEnvelope implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
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
}
