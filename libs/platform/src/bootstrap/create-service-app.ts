import { randomUUID } from 'node:crypto';
import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { PlatformConfig } from '../config/load-config';
import { ProblemDetailsFilter, sendProblem } from '../errors/problem-details.filter';
import { createValidationPipe } from '../errors/validation';
import { HealthRegistry } from '../health/health.registry';
import { createMetricsRegistry, instrumentHttpMetrics } from '../http/metrics';
import { createLogger, PinoNestLogger } from '../logging/logger';
import { PlatformModule } from './platform.module';

type FastifyErrorHandler = Parameters<FastifyAdapter['setErrorHandler']>[0];

/**
 * Nest maps Fastify's own errors (malformed JSON, body too large) to bare HttpExceptions and
 * loses their codes; answer those here, with their stable codes, and pass the rest to Nest.
 */
class ProblemFastifyAdapter extends FastifyAdapter {
  constructor(
    private readonly problemLogger: Logger,
    options: FastifyServerOptions,
  ) {
    super(options);
  }

  override setErrorHandler(handler: FastifyErrorHandler) {
    const wrapped: FastifyErrorHandler = function (this: unknown, error, request, reply) {
      if (isFastifyError(error)) {
        sendProblem(adapterLogger, error, request, reply);
        return;
      }
      return handler.call(this as never, error, request, reply) as unknown;
    };
    const adapterLogger = this.problemLogger;
    return super.setErrorHandler(wrapped);
  }
}

function isFastifyError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('FST_');
}

export interface ServiceAppOptions {
  /** Service name as in `services/<name>`. */
  name: string;
  appModule: DynamicModule | Type;
  config: PlatformConfig;
  openapi: { title: string; description: string; version: string };
  logger?: Logger;
}

/**
 * Builds a service's Nest application the same way for production and tests: Fastify,
 * problem+json errors, validated DTOs, metrics, health, OpenAPI. Does not listen.
 */
export async function createServiceApp(
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  const logger =
    options.logger ?? createLogger({ service: options.name, level: options.config.LOG_LEVEL });
  const metrics = createMetricsRegistry(options.name);
  const health = new HealthRegistry();

  const adapter = new ProblemFastifyAdapter(logger, {
    loggerInstance: logger.child({ component: 'http' }),
    bodyLimit: options.config.HTTP_BODY_LIMIT_BYTES,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming)
        ? incoming
        : randomUUID();
    },
  });

  @Module({ imports: [PlatformModule.forRoot({ logger, metrics, health }), options.appModule] })
  class ServiceRootModule {}

  const app = await NestFactory.create<NestFastifyApplication>(ServiceRootModule, adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  app.useGlobalPipes(createValidationPipe());

  instrumentHttpMetrics(app.getHttpAdapter().getInstance(), metrics);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.openapi.title)
      .setDescription(options.openapi.description)
      .setVersion(options.openapi.version)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
