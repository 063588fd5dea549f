import { type DynamicModule, Global, Module } from '@nestjs/common';
import { JwtTokenVerifier, RevocationAwareVerifier, TOKEN_VERIFIER } from '@qiwei/auth';
import { COMPLIANCE_TOPICS } from '@qiwei/contracts';
import {
  CreateEventTables1763800000000,
  EventsModule,
  OutboxNotifyAfterCommit1765100000000,
} from '@qiwei/events';
import { CreateIdempotencyKeys1763900000000, PersistenceModule } from '@qiwei/persistence';
import { AccessLog } from './access-log/access-log';
import { AccessLogController } from './access-log/access-log.controller';
import { AlertRulesService } from './alerts/alert-rules.service';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsService } from './alerts/alerts.service';
import { ArchiveController } from './archive/archive.controller';
import { ArchiveIngestConsumer } from './archive/archive-ingest.consumer';
import { ArchiveService } from './archive/archive.service';
import { ArchiveWriter } from './archive/archive-writer';
import { ChainHeadSigner } from './chain/chain-heads';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from './config';
import { Directory } from './directory/directory';
import { DirectoryProjection } from './directory/directory-projection';
import { ComplianceSchema1766000000000 } from './migrations/1766000000000-archive-schema';
import { Coverage } from './coverage/coverage';
import { DepartmentProjection } from './directory/department-projection';
import { SearchCoverage1766200000000 } from './migrations/1766200000000-search-coverage';
import { ExportStorage } from './exports/export-storage';
import { ExportWorker } from './exports/export-worker';
import { ExportsController } from './exports/exports.controller';
import { ExportsService } from './exports/exports.service';
import { Exports1766200000001 } from './migrations/1766200000001-exports';
import { ArchiveIndexController } from './search/archive-index.controller';
import { archiveIndexProviders } from './search/archive-index.providers';

export const COMPLIANCE_MIGRATIONS = [
  CreateEventTables1763800000000,
  CreateIdempotencyKeys1763900000000,
  OutboxNotifyAfterCommit1765100000000,
  ComplianceSchema1766000000000,
  SearchCoverage1766200000000,
  Exports1766200000001,
];

@Global()
@Module({})
class ComplianceConfigModule {
  static register(config: ComplianceConfig): DynamicModule {
    return {
      module: ComplianceConfigModule,
      providers: [{ provide: COMPLIANCE_CONFIG, useValue: config }],
      exports: [COMPLIANCE_CONFIG],
    };
  }
}

/** The compliance service: the conversation archive, its search, alerts and access log. */
@Module({})
export class ComplianceModule {
  static register(config: ComplianceConfig): DynamicModule {
    return {
      module: ComplianceModule,
      imports: [
        ComplianceConfigModule.register(config),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'qiwei-compliance',
          entities: [],
          migrations: COMPLIANCE_MIGRATIONS,
          poolSize: config.DATABASE_POOL_SIZE,
        }),
        EventsModule.forRoot({
          service: 'compliance',
          config,
          databaseUrl: config.DATABASE_URL,
          publishes: COMPLIANCE_TOPICS,
        }),
      ],
      controllers: [
        ArchiveController,
        AlertsController,
        AccessLogController,
        ArchiveIndexController,
        ExportsController,
      ],
      providers: [
        Directory,
        DirectoryProjection,
        AccessLog,
        AlertRulesService,
        AlertsService,
        ArchiveWriter,
        ArchiveIngestConsumer,
        ArchiveService,
        ChainHeadSigner,
        ...archiveIndexProviders(config),
        Coverage,
        DepartmentProjection,
        ExportStorage,
        ExportWorker,
        ExportsService,
        {
          // Signatures against identity's JWKS; revocation from identity's member events.
          provide: TOKEN_VERIFIER,
          inject: [Directory],
          useFactory: (directory: Directory) =>
            new RevocationAwareVerifier(
              JwtTokenVerifier.fromJwksUrl(config.IDENTITY_JWKS_URL),
              (corpId, userid) => directory.standing(corpId, userid),
            ),
        },
      ],
    };
  }
}
