import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { TransactionRunner } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import type { Access } from '../access/access';
import { recordAudit } from '../audit/audit-log';
import { currentRequestContext } from '../audit/request-context';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { AppTokenRequiredException } from '../wecom/wecom.exceptions';
import { BatchCallbackSender } from './batch-callback.sender';
import { BatchJobWorker } from './batch-job.worker';
import { BatchJobsRepository, type BatchJobType } from './batch-jobs.repository';
import { BatchMedia } from './batch-media';
import {
  BatchFileTooLargeException,
  BatchJobNotFoundException,
  BatchMediaNotAFileException,
} from './batch.exceptions';
import {
  batchResult,
  type WecomBatchCallbackDto,
  type WecomBatchResultResponse,
} from './dto/wecom-batch.dto';

export interface SubmitBatchJob {
  mediaId: string;
  toInvite: boolean;
  callback?: WecomBatchCallbackDto;
}

const JOBID = /^[A-Za-z0-9_-]{1,64}$/;

/** Submitting WeCom batch jobs (an app with contacts:edit) and reading their results. */
@Injectable()
export class BatchJobsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly jobs: BatchJobsRepository,
    private readonly media: BatchMedia,
    private readonly worker: BatchJobWorker,
    private readonly callbacks: BatchCallbackSender,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * Checks what can be checked at once (the permission, the media: it exists in this corp, is a
   * file, is not too large) and queues the job; the file's content is the job's to judge.
   */
  async submit(access: Access, type: BatchJobType, input: SubmitBatchJob): Promise<string> {
    access.assertHasPermission('contacts:edit');
    const agentid = access.principal.app?.agentId;
    if (agentid === undefined) throw new AppTokenRequiredException();
    const corpId = access.corpId;
    const media = await this.media.describe(corpId, input.mediaId);
    if (media.type !== 'file') throw new BatchMediaNotAFileException(media.type);
    if (media.size > this.config.IMPORT_MAX_FILE_BYTES)
      throw new BatchFileTooLargeException(media.size, this.config.IMPORT_MAX_FILE_BYTES);
    const jobid = randomBytes(24).toString('base64url');
    const ctx = currentRequestContext();
    const callback = input.callback;
    await this.transactions.run(async (em) => {
      await this.jobs.create(em, corpId, {
        jobid,
        type,
        agentid,
        mediaId: media.mediaId,
        mediaSha256: media.sha256,
        mediaBytes: media.size,
        toInvite: input.toInvite,
        callbackUrl: callback?.url ?? null,
        callbackSecret: callback
          ? this.callbacks.seal(corpId, jobid, {
              token: callback.token,
              encodingaeskey: callback.encodingaeskey,
            })
          : null,
        requestIp: ctx.ip,
        requestId: ctx.requestId,
      });
      await recordAudit(em, corpId, {
        action: 'wecom_batch.created',
        targetType: 'wecom_batch_job',
        targetId: jobid,
        after: {
          jobid,
          type,
          mediaId: media.mediaId,
          filename: media.filename,
          bytes: media.size,
          toInvite: input.toInvite,
          callbackUrl: callback?.url ?? null,
        },
      });
    });
    this.worker.notify();
    return jobid;
  }

  /** A job of this app (another app's or corp's is not found), with its results once done. */
  async result(access: Access, jobid: string): Promise<WecomBatchResultResponse> {
    const em = this.dataSource.manager;
    const job = JOBID.test(jobid) ? await this.jobs.find(em, access.corpId, jobid) : null;
    if (!job || job.agentid !== access.principal.app?.agentId)
      throw new BatchJobNotFoundException(jobid);
    const entries =
      job.status === 'finished' ? await this.jobs.results(em, access.corpId, jobid) : [];
    return batchResult(job, entries);
  }
}
