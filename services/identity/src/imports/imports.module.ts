import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AccessModule } from '../access/access.module';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { DepartmentRepository } from '../departments/department.repository';
import { DepartmentsModule } from '../departments/departments.module';
import { MembersRepository } from '../members/members.repository';
import { TokensModule } from '../tokens/tokens.module';
import { ApplyImportChunkUseCase } from './apply-import-chunk.usecase';
import { BulkMembersRepository } from './bulk-members.repository';
import { ExportMembersUseCase } from './export-members.usecase';
import { MemberImportWorker } from './member-import.worker';
import { MemberImportsController, SHEET_CONTENT_TYPES } from './member-imports.controller';
import { MemberImportsRepository } from './member-imports.repository';
import { MemberImportsService } from './member-imports.service';
import { PlannedDepartmentsWriter } from './planned-departments.writer';

/** Batch import of members from CSV/XLSX sheets (background jobs) and export to XLSX. */
@Module({
  imports: [AccessModule, DepartmentsModule, TokensModule],
  controllers: [MemberImportsController],
  providers: [
    MemberImportsService,
    MemberImportsRepository,
    MemberImportWorker,
    ApplyImportChunkUseCase,
    BulkMembersRepository,
    ExportMembersUseCase,
    MembersRepository,
    DepartmentRepository,
    PlannedDepartmentsWriter,
  ],
  exports: [BulkMembersRepository, PlannedDepartmentsWriter],
})
export class ImportsModule implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Uploads arrive as the raw file: read them as bytes, up to their own (larger) limit. */
  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    fastify.addContentTypeParser(
      SHEET_CONTENT_TYPES,
      { parseAs: 'buffer', bodyLimit: this.config.IMPORT_MAX_FILE_BYTES },
      (_request, body, done) => done(null, body),
    );
  }
}
