import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { stopTracing } from '../tracing';
import { ConfigurationError, loadConfig, type PlatformConfig } from '../config/load-config';
import { HealthRegistry } from '../health/health.registry';
import { createLogger } from '../logging/logger';
import { createServiceApp, type ServiceAppOptions } from './create-service-app';

export interface ServiceDefinition<S extends z.ZodType<PlatformConfig>> {
  name: string;
  configSchema: S;
  appModule: (config: z.infer<S>) => DynamicModule;
  openapi: ServiceAppOptions['openapi'];
}

/** A service's `main`: validated config, app, listen, graceful shutdown on SIGTERM/SIGINT. */
export async function runService<S extends z.ZodType<PlatformConfig>>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const refuseToStart = (error: ConfigurationError): never => {
    process.stderr.write(`qiwei-${definition.name} refuses to start. ${error.message}\n`);
    process.exit(1);
  };
  let config: z.infer<S>;
  try {
    config = loadConfig(definition.configSchema, env);
  } catch (error) {
    if (error instanceof ConfigurationError) refuseToStart(error);
    throw error;
  }
  const logger = createLogger({ service: definition.name, level: config.LOG_LEVEL });
  try {
    const app = await createServiceApp({
      name: definition.name,
      appModule: definition.appModule(config),
      config,
      openapi: definition.openapi,
      logger,
    });
    await app.listen({ port: config.PORT, host: config.HOST });
    logger.info({ url: await app.getUrl() }, `${definition.name} listening`);
    installGracefulShutdown(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  } catch (error) {
    // A fault only start-up can see (e.g. a key that does not open stored secrets).
    if (error instanceof ConfigurationError) refuseToStart(error);
    logger.fatal({ err: error }, `${definition.name} failed to start`);
    await stopTracing().catch(() => undefined);
    process.exit(1);
  }
}

function installGracefulShutdown(
  app: NestFastifyApplication,
  logger: Logger,
  timeoutMs: number,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    app.get(HealthRegistry).markShuttingDown();
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    // Fastify stops accepting, answers 503 to new requests, lets in-flight ones finish;
    // then Nest destroys modules (database pools close).
    app
      .close()
      .then(() => stopTracing())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
