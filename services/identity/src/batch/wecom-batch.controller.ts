import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Access } from '../access/access';
import { CurrentAccess } from '../access/current-access';
import { wecomOk } from '../wecom/dto/wecom.dto';
import { WecomApi } from '../wecom/wecom-api';
import { BatchJobsService } from './batch-jobs.service';
import {
  WecomBatchJobCreatedResponse,
  WecomBatchJobQuery,
  WecomBatchPartyDto,
  WecomBatchResultResponse,
  WecomBatchUserDto,
} from './dto/wecom-batch.dto';

const TEMPLATES =
  'The CSV (UTF-8 or GBK, or XLSX) is uploaded first with media/upload?type=file; its columns are ' +
  'WeCom’s template’s (see the README). The job runs in the background: poll batch/getresult, or ' +
  'pass `callback` to receive the batch_job_result event (encrypted and signed as WeCom does). ' +
  'Needs an app with contacts:edit; rows outside its scope are refused one by one (60011).';

/** WeCom's asynchronous batch API (异步批量接口) over the batch jobs. */
@WecomApi()
@Controller('cgi-bin/batch')
export class WecomBatchController {
  constructor(private readonly batch: BatchJobsService) {}

  @Post('syncuser')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Incremental member sync: add new members, update existing ones; others untouched',
    description: TEMPLATES,
  })
  @ApiOkResponse({ type: WecomBatchJobCreatedResponse })
  async syncUser(
    @CurrentAccess() access: Access,
    @Body() body: WecomBatchUserDto,
  ): Promise<WecomBatchJobCreatedResponse> {
    return wecomOk({ jobid: await this.submitUsers(access, 'sync_user', body) });
  }

  @Post('replaceuser')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Full member overwrite: the file is the truth; members in range it does not name are deleted (admins never; errcode 45026 protects against mass deletion)',
    description: TEMPLATES,
  })
  @ApiOkResponse({ type: WecomBatchJobCreatedResponse })
  async replaceUser(
    @CurrentAccess() access: Access,
    @Body() body: WecomBatchUserDto,
  ): Promise<WecomBatchJobCreatedResponse> {
    return wecomOk({ jobid: await this.submitUsers(access, 'replace_user', body) });
  }

  @Post('replaceparty')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Full department overwrite from 部门名称, 部门ID, 父部门ID, 排序; departments not in the file are deleted when empty, otherwise reported',
    description: TEMPLATES,
  })
  @ApiOkResponse({ type: WecomBatchJobCreatedResponse })
  async replaceParty(
    @CurrentAccess() access: Access,
    @Body() body: WecomBatchPartyDto,
  ): Promise<WecomBatchJobCreatedResponse> {
    const jobid = await this.batch.submit(access, 'replace_party', {
      mediaId: body.media_id,
      toInvite: false,
      callback: body.callback,
    });
    return wecomOk({ jobid });
  }

  @Get('getresult')
  @ApiOperation({
    summary:
      'A job’s status (1 queued, 2 running, 3 done), progress and per-row results (errcode 40088: no such job)',
  })
  @ApiOkResponse({ type: WecomBatchResultResponse })
  result(
    @CurrentAccess() access: Access,
    @Query() query: WecomBatchJobQuery,
  ): Promise<WecomBatchResultResponse> {
    return this.batch.result(access, query.jobid);
  }

  private submitUsers(
    access: Access,
    type: 'sync_user' | 'replace_user',
    body: WecomBatchUserDto,
  ): Promise<string> {
    return this.batch.submit(access, type, {
      mediaId: body.media_id,
      toInvite: body.to_invite ?? true,
      callback: body.callback,
    });
  }
}
