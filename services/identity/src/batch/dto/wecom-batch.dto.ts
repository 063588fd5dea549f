import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WECOM_CALLBACK_TOKEN, WECOM_ENCODING_AES_KEY } from '@qiwei/wecom';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { WecomQuery, WecomResponse } from '../../wecom/dto/wecom.dto';
import type { BatchJob, BatchJobStatus, BatchResultEntry } from '../batch-jobs.repository';

export class WecomBatchCallbackDto {
  @ApiProperty({ description: 'Where the batch_job_result event is POSTed (http or https)' })
  @IsDefined()
  @IsString()
  @MaxLength(2048)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  url!: string;

  @ApiProperty({ description: 'Signs the event (msg_signature): letters and digits, at most 32' })
  @IsDefined()
  @IsString()
  @Matches(WECOM_CALLBACK_TOKEN, { message: 'token must be 1–32 letters and digits' })
  token!: string;

  @ApiProperty({ description: 'EncodingAESKey: 43 letters and digits; encrypts the event' })
  @IsDefined()
  @IsString()
  @Matches(WECOM_ENCODING_AES_KEY, { message: 'encodingaeskey must be 43 letters and digits' })
  encodingaeskey!: string;
}

export class WecomBatchPartyDto {
  @ApiProperty({ description: 'The CSV’s media_id from media/upload?type=file (valid 3 days)' })
  @IsDefined()
  @IsString()
  @MaxLength(128)
  media_id!: string;

  @ApiPropertyOptional({
    type: WecomBatchCallbackDto,
    description: 'When given, the batch_job_result event is posted there once the job is done',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => WecomBatchCallbackDto)
  callback?: WecomBatchCallbackDto;
}

export class WecomBatchUserDto extends WecomBatchPartyDto {
  @ApiPropertyOptional({
    description:
      'WeCom invites new members (SMS, email, WeChat) when true; Qiwei sends no invitations, so it is recorded on the job and has no effect',
    default: true,
  })
  @IsOptional()
  @IsBoolean()
  to_invite?: boolean;
}

export class WecomBatchJobQuery extends WecomQuery {
  @ApiProperty({ description: 'The jobid a batch call answered' })
  @IsDefined()
  @IsString()
  @MaxLength(64)
  jobid!: string;
}

export class WecomBatchJobCreatedResponse extends WecomResponse {
  @ApiProperty({ description: 'The job, for batch/getresult (at most 64 characters)' })
  jobid!: string;
}

export class WecomBatchResultItem {
  @ApiPropertyOptional({
    description: 'sync_user / replace_user: the row’s (or removed member’s) userid',
  })
  userid?: string;
  @ApiPropertyOptional({ description: 'replace_party: the department id' })
  partyid?: number;
  @ApiPropertyOptional({
    description:
      'replace_party: what changed, bits 1 created, 2 renamed, 4 moved, 8 reordered (WeCom’s), 16 deleted (Qiwei’s)',
  })
  action?: number;
  @ApiProperty({ description: '0, or why the row (or member/department) was not applied' })
  errcode!: number;
  @ApiProperty()
  errmsg!: string;
}

export class WecomBatchResultResponse extends WecomResponse {
  @ApiProperty({ description: '1 queued, 2 running, 3 done', enum: [1, 2, 3] })
  status!: number;
  @ApiProperty({ enum: ['sync_user', 'replace_user', 'replace_party'] })
  type!: string;
  @ApiProperty({ description: 'Rows of the file' })
  total!: number;
  @ApiProperty({ description: '0–100; 100 when done' })
  percentage!: number;
  @ApiProperty({
    type: [WecomBatchResultItem],
    description:
      'When done: one entry per row of the file, then (replace_user) each member removed or kept, (replace_party) each department deleted or kept',
  })
  result!: WecomBatchResultItem[];
}

const STATUS: Record<BatchJobStatus, number> = { queued: 1, running: 2, finished: 3 };

/** getresult's body (the job's own errcode: a failed job answers it, with its status). */
export function batchResult(job: BatchJob, entries: BatchResultEntry[]): WecomBatchResultResponse {
  const done = job.status === 'finished';
  return {
    errcode: job.errcode,
    errmsg: job.errmsg,
    status: STATUS[job.status],
    type: job.type,
    total: job.total,
    percentage: done
      ? 100
      : job.total > 0
        ? Math.min(99, Math.floor((job.processed * 100) / job.total))
        : 0,
    result: entries.map((e) =>
      job.type === 'replace_party'
        ? {
            partyid: e.partyid ?? undefined,
            action: e.action ?? 0,
            errcode: e.errcode,
            errmsg: e.errmsg,
          }
        : { userid: e.userid ?? '', errcode: e.errcode, errmsg: e.errmsg },
    ),
  };
}

/** What the audit log keeps of a job. */
export function batchJobSummary(job: BatchJob) {
  return {
    jobid: job.jobid,
    type: job.type,
    agentid: job.agentid,
    mediaId: job.mediaId,
    toInvite: job.toInvite,
    status: job.status,
    total: job.total,
    errcode: job.errcode,
    errmsg: job.errmsg,
    counts: job.summary,
    callbackUrl: job.callbackUrl,
  };
}
