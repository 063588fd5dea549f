import { Module } from '@nestjs/common';
import { ObjectStorage } from '@qiwei/storage';
import { AccessModule } from '../access/access.module';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { CryptoModule } from '../crypto/crypto.module';
import { DepartmentRepository } from '../departments/department.repository';
import { ImportsModule } from '../imports/imports.module';
import { MembersRepository } from '../members/members.repository';
import { TokensModule } from '../tokens/tokens.module';
import { WecomAccessTokenGuard } from '../wecom/wecom-access-token.guard';
import { ApplyUserChunkUseCase } from './apply-user-chunk.usecase';
import { BatchCallbackSender } from './batch-callback.sender';
import { BatchJobWorker } from './batch-job.worker';
import { BatchJobsRepository } from './batch-jobs.repository';
import { BatchJobsService } from './batch-jobs.service';
import { BatchMedia } from './batch-media';
import { BatchMembersRepository } from './batch-members.repository';
import { RemoveUnlistedMembersUseCase } from './remove-unlisted-members.usecase';
import { ReplaceDepartmentsUseCase } from './replace-departments.usecase';
import { WecomBatchController } from './wecom-batch.controller';

/**
 * WeCom's batch API (batch/syncuser, replaceuser, replaceparty, getresult): background jobs over
 * CSVs in WeCom's temporary media, run like the member imports, with WeCom's callbacks.
 */
@Module({
  imports: [AccessModule, CryptoModule, ImportsModule, TokensModule],
  controllers: [WecomBatchController],
  providers: [
    {
      provide: ObjectStorage,
      inject: [IDENTITY_CONFIG],
      useFactory: (config: IdentityConfig) => new ObjectStorage(config),
    },
    BatchMedia,
    BatchJobsRepository,
    BatchMembersRepository,
    BatchJobsService,
    BatchJobWorker,
    BatchCallbackSender,
    ApplyUserChunkUseCase,
    RemoveUnlistedMembersUseCase,
    ReplaceDepartmentsUseCase,
    MembersRepository,
    DepartmentRepository,
    WecomAccessTokenGuard,
  ],
})
export class BatchModule {}
