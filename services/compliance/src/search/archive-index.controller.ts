import { Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { TransactionRunner } from '@qiwei/persistence';
import { AccessLog } from '../access-log/access-log';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';
import { ARCHIVE_INDEX, type ArchiveIndex } from './archive-index';

class IndexFailureResponse {
  @ApiProperty() chainSeq!: number;
  @ApiProperty() attempts!: number;
  @ApiProperty({ description: 'The engine’s reason, e.g. `400 mapper_parsing_exception: …`' })
  error!: string;
  @ApiProperty() failedAt!: string;
}

export class IndexBacklogResponse {
  @ApiProperty({ enum: ['postgres', 'elasticsearch'] }) engine!: string;
  @ApiProperty({ description: 'Archived records not yet searchable' }) pending!: number;
  @ApiProperty({ description: 'Records the engine rejected, kept until retried' })
  failed!: number;
  @ApiProperty({ nullable: true, type: String }) oldestPendingAt!: string | null;
  @ApiProperty({ type: [IndexFailureResponse], description: 'The first 100 failures' })
  failures!: IndexFailureResponse[];
}

class RetryResponse {
  @ApiProperty({ description: 'Failed records queued again' }) requeued!: number;
}

@ApiTags('archive index')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('super_admin')
@Controller('v1/archive/index')
export class ArchiveIndexController {
  constructor(
    @Inject(ARCHIVE_INDEX) private readonly index: ArchiveIndex,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    private readonly tx: TransactionRunner,
    private readonly accessLog: AccessLog,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'How far the search index is behind the archive, and the records it rejected (super admins)',
  })
  @ApiOkResponse({ type: IndexBacklogResponse })
  async backlog(@CurrentPrincipal() caller: Principal): Promise<IndexBacklogResponse> {
    const b = await this.index.backlog(caller.corpId);
    return {
      engine: this.config.ARCHIVE_INDEX,
      pending: b.pending,
      failed: b.failed,
      oldestPendingAt: b.oldestPendingAt?.toISOString() ?? null,
      failures: b.failures.map((f) => ({ ...f, failedAt: f.failedAt.toISOString() })),
    };
  }

  @Post('retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue the rejected records again (after fixing the cause). Recorded' })
  @ApiOkResponse({ type: RetryResponse })
  async retry(@CurrentPrincipal() caller: Principal): Promise<RetryResponse> {
    const requeued = await this.index.retryFailed(caller.corpId);
    await this.tx.run((em) =>
      this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'archive.index_retried',
        query: {},
        resultCount: requeued,
      }),
    );
    return { requeued };
  }
}
