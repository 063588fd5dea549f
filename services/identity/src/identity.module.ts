import { type DynamicModule, Global, Module } from '@nestjs/common';
import { PLATFORM_TOKEN } from '@qiwei/auth';
import { IDENTITY_TOPICS } from '@qiwei/contracts';
import {
  CreateEventTables1763800000000,
  EventsModule,
  OutboxNotifyAfterCommit1765100000000,
} from '@qiwei/events';
import { CreateIdempotencyKeys1763900000000, PersistenceModule } from '@qiwei/persistence';
import { IDENTITY_CONFIG, type IdentityConfig } from './config';
import { Corp } from './corps/corp.entity';
import { CorpsModule } from './corps/corps.module';
import { Department } from './departments/department.entity';
import { DepartmentsModule } from './departments/departments.module';
import { Member, MemberDepartment } from './members/member.entity';
import { MembersModule } from './members/members.module';
import { Tag } from './tags/tag.entity';
import { TagsModule } from './tags/tags.module';
import { MemberImport } from './imports/member-import.entity';
import { ImportsModule } from './imports/imports.module';
import { InitialSchema1763700000000 } from './migrations/1763700000000-initial-schema';
import { MemberProfile1764000000000 } from './migrations/1764000000000-member-profile';
import { Tags1764100000000 } from './migrations/1764100000000-tags';
import { TokenRevocation1764200000000 } from './migrations/1764200000000-token-revocation';
import { SignIn1764300000000 } from './migrations/1764300000000-sign-in';
import { AuditLog1764400000000 } from './migrations/1764400000000-audit-log';
import { AccessControl1764500000000 } from './migrations/1764500000000-access-control';
import { AppsModule } from './apps/apps.module';
import { SealedSigningKeys1764700000000 } from './migrations/1764700000000-sealed-signing-keys';
import { Totp1764800000000 } from './migrations/1764800000000-totp';
import { WecomBatchJobs1764900000000 } from './migrations/1764900000000-wecom-batch-jobs';
import { MemberImports1764600000000 } from './migrations/1764600000000-member-imports';
import { AuditModule } from './audit/audit.module';
import { BatchModule } from './batch/batch.module';
import { AuthModule } from './auth/auth.module';
import { SigningKey } from './tokens/signing-key.entity';
import { TokensModule } from './tokens/tokens.module';
import { WecomModule } from './wecom/wecom.module';

export const IDENTITY_ENTITIES = [
  Corp,
  Department,
  Member,
  MemberDepartment,
  SigningKey,
  Tag,
  MemberImport,
];
export const IDENTITY_MIGRATIONS = [
  InitialSchema1763700000000,
  CreateEventTables1763800000000,
  CreateIdempotencyKeys1763900000000,
  MemberProfile1764000000000,
  Tags1764100000000,
  TokenRevocation1764200000000,
  SignIn1764300000000,
  AuditLog1764400000000,
  AccessControl1764500000000,
  MemberImports1764600000000,
  SealedSigningKeys1764700000000,
  Totp1764800000000,
  WecomBatchJobs1764900000000,
  OutboxNotifyAfterCommit1765100000000,
];

@Global()
@Module({})
class IdentityConfigModule {
  static register(config: IdentityConfig): DynamicModule {
    return {
      module: IdentityConfigModule,
      providers: [
        { provide: IDENTITY_CONFIG, useValue: config },
        { provide: PLATFORM_TOKEN, useValue: config.QIWEI_PLATFORM_TOKEN },
      ],
      exports: [IDENTITY_CONFIG, PLATFORM_TOKEN],
    };
  }
}

/** The identity service: corps, departments, members, tokens. */
@Module({})
export class IdentityModule {
  static register(config: IdentityConfig): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        IdentityConfigModule.register(config),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'qiwei-identity',
          entities: IDENTITY_ENTITIES,
          migrations: IDENTITY_MIGRATIONS,
          poolSize: config.DATABASE_POOL_SIZE,
        }),
        EventsModule.forRoot({
          service: 'identity',
          config,
          databaseUrl: config.DATABASE_URL,
          publishes: IDENTITY_TOPICS,
        }),
        TokensModule,
        DepartmentsModule,
        MembersModule,
        TagsModule,
        AppsModule,
        AuthModule,
        AuditModule,
        CorpsModule,
        WecomModule,
        ImportsModule,
        BatchModule,
      ],
    };
  }
}
