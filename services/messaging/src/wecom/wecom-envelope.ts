import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '@qiwei/platform';
import type { FastifyInstance } from 'fastify';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { toWecomError } from './wecom-errors';

export const WECOM_PREFIX = '/cgi-bin/';
const WEBHOOK_PATH = '/cgi-bin/webhook/send';

/**
 * WeCom answers every call with HTTP 200 and `{errcode, errmsg}`. Errors under /cgi-bin are
 * turned into that envelope here, after the platform's one filter made them problem+json —
 * whatever raised them: validation, a use case, or Fastify's body parser (malformed JSON,
 * oversized bodies), which runs before any Nest filter could see the request. (The same hook as
 * identity's; services do not import each other.)
 */
@Injectable()
export class WecomEnvelope implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(MESSAGING_CONFIG) config: MessagingConfig,
  ) {
    // A robot's image arrives as base64 in JSON: the webhook takes bodies a third larger than
    // the image limit. Routes are registered after providers are built, before onModuleInit.
    const bodyLimit = Math.ceil((config.ROBOT_IMAGE_MAX_BYTES * 4) / 3) + 64 * 1024;
    this.fastify().addHook('onRoute', (route) => {
      if (route.url === WEBHOOK_PATH)
        route.bodyLimit = Math.max(bodyLimit, config.HTTP_BODY_LIMIT_BYTES);
    });
  }

  onModuleInit(): void {
    this.fastify().addHook('onSend', async (request, reply, payload) => {
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

  private fastify(): FastifyInstance {
    return this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
  }
}
