import multipart from '@fastify/multipart';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { installWecomEnvelope } from '@qiwei/wecom';
import type { FastifyInstance } from 'fastify';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { toWecomError } from './wecom-errors';

const WEBHOOK_PATH = '/cgi-bin/webhook/send';

/**
 * Messaging's /cgi-bin errors (the group robot webhook and the app API) in WeCom's envelope,
 * with messaging's errcode tables; the webhook's larger body limit; multipart bodies for
 * media/upload (whose per-type size limits are applied as the file is read).
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
    // Registered before Nest adds its routes; Fastify loads it when the app gets ready.
    void this.fastify().register(multipart, {
      limits: {
        fileSize: Math.max(
          config.WECOM_MEDIA_MAX_IMAGE_BYTES,
          config.WECOM_MEDIA_MAX_VOICE_BYTES,
          config.WECOM_MEDIA_MAX_VIDEO_BYTES,
          config.WECOM_MEDIA_MAX_FILE_BYTES,
        ),
        files: 1,
        fields: 16,
        fieldSize: 4096,
        parts: 32,
      },
    });
  }

  onModuleInit(): void {
    installWecomEnvelope(this.fastify(), toWecomError);
  }

  private fastify(): FastifyInstance {
    return this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
  }
}
