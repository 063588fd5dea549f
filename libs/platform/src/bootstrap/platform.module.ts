import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HealthController } from '../health/health.controller';
import { HealthRegistry } from '../health/health.registry';

export const LOGGER = Symbol('LOGGER');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** What every service gets: logger, metrics registry, health endpoints. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: {
    logger: Logger;
    metrics: Registry;
    health: HealthRegistry;
  }): DynamicModule {
    return {
      module: PlatformModule,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: METRICS_REGISTRY, useValue: options.metrics },
        { provide: HealthRegistry, useValue: options.health },
      ],
      exports: [LOGGER, METRICS_REGISTRY, HealthRegistry],
    };
  }
}
