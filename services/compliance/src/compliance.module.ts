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
import { MediaConsentRetention1766100000000 } from './migrations/1766100000000-media-consent-retention';
import { ConsentController } from './consent/consent.controller';
import { ConsentService } from './consent/consent.service';
import { MattersController } from './matters/matters.controller';
import { MattersService } from './matters/matters.service';
import { ArchiveStorage } from './media/archive-storage';
import { MediaArchiver } from './media/media-archiver';
import { ArchivedMedia, ArchivedMediaController } from './media/media.controller';
import { RetentionController } from './retention/retention.controller';
import { RetentionService } from './retention/retention.service';
import { Coverage } from './coverage/coverage';
import { DepartmentProjection } from './directory/department-projection';
import { SearchCoverage1766200000000 } from './migrations/1766200000000-search-coverage';
import { ExportStorage } from './exports/export-storage';
import { ExportWorker } from './exports/export-worker';
import { ExportsController } from './exports/exports.controller';
import { MatterExportsController } from './exports/matter-exports.controller';
import { ExportsService } from './exports/exports.service';
import { Exports1766200000001 } from './migrations/1766200000001-exports';
import { EveryKindSearchable1766300000000 } from './migrations/1766300000000-every-kind-searchable';
import { ArchiveIndexController } from './search/archive-index.controller';
import { archiveIndexProviders } from './search/archive-index.providers';

export const COMPLIANCE_MIGRATIONS = [
  CreateEventTables1763800000000,
  CreateIdempotencyKeys1763900000000,
  OutboxNotifyAfterCommit1765100000000,
  ComplianceSchema1766000000000,
  MediaConsentRetention1766100000000,
  SearchCoverage1766200000000,
  Exports1766200000001,
  EveryKindSearchable1766300000000,
];

/** Media copies, consent, retention and legal hold (the archive's second part). */
const RETENTION_CONTROLLERS = [
  ConsentController,
  RetentionController,
  MattersController,
  ArchivedMediaController,
];
const RETENTION_PROVIDERS = [
  ArchiveStorage,
  MediaArchiver,
  ArchivedMedia,
  ConsentService,
  RetentionService,
  MattersService,
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
        ...RETENTION_CONTROLLERS,
        ArchiveIndexController,
        ExportsController,
        MatterExportsController,
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
        ...RETENTION_PROVIDERS,
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
