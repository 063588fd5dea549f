import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { installWecomEnvelope } from '@qiwei/wecom';
import type { FastifyInstance } from 'fastify';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { toWecomError } from './wecom-errors';

const WEBHOOK_PATH = '/cgi-bin/webhook/send';

/**
 * Messaging's /cgi-bin errors (the group robot webhook) in WeCom's envelope, with messaging's
 * errcode table; and the webhook's larger body limit.
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
    installWecomEnvelope(this.fastify(), toWecomError);
  }

  private fastify(): FastifyInstance {
    return this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
  }
}
