import {
  type DynamicModule,
  Global,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HealthRegistry, LOGGER, type Logger } from '@qiwei/platform';
import { DataSource } from 'typeorm';
import { createDataSource, runMigrations, type DataSourceOptions } from './data-source';
import { TransactionRunner } from './transaction-runner';

/**
 * The service's one data source: connected and migrated before the app serves anything,
 * checked by `/health/ready`, closed last on shutdown.
 */
@Global()
@Module({})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forRoot(options: DataSourceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        {
          provide: DataSource,
          inject: [HealthRegistry, LOGGER],
          useFactory: async (health: HealthRegistry, logger: Logger) => {
            const dataSource = createDataSource(options);
            await dataSource.initialize();
            const applied = await runMigrations(dataSource);
            if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
            health.register('database', async () => {
              await dataSource.query('SELECT 1');
            });
            return dataSource;
          },
        },
        TransactionRunner,
      ],
      exports: [DataSource, TransactionRunner],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
