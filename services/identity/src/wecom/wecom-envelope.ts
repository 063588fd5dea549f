import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { installWecomEnvelope } from '@qiwei/wecom';
import type { FastifyInstance } from 'fastify';
import { toWecomError } from './wecom-errors';

/** Identity's /cgi-bin errors in WeCom's envelope (HTTP 200, errcode from identity's table). */
@Injectable()
export class WecomEnvelope implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    installWecomEnvelope(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), toWecomError);
  }
}
