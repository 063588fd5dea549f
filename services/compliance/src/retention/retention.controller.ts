import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { ValidationFailedException } from '@qiwei/platform';
import { IsInt, Max, Min } from 'class-validator';
import {
  RETENTION_SCOPES,
  RetentionService,
  type PurgeResult,
  type RetentionPolicy,
  type RetentionScope,
} from './retention.service';

export class SetRetentionPolicyDto {
  @ApiProperty({
    minimum: 1,
    maximum: 36500,
    description: 'Days a record is kept after it was sent',
  })
  @IsInt()
  @Min(1)
  @Max(36500)
  retainDays!: number;
}

export class RetentionPolicyResponse {
  @ApiProperty({ enum: RETENTION_SCOPES }) scope!: string;
  @ApiProperty() retainDays!: number;
  @ApiProperty() updatedBy!: string;
  @ApiProperty() updatedAt!: string;

  static of(p: RetentionPolicy): RetentionPolicyResponse {
    return {
      scope: p.scope,
      retainDays: p.retainDays,
      updatedBy: p.updatedBy,
      updatedAt: p.updatedAt.toISOString(),
    };
  }
}

export class RetentionPolicyListResponse {
  @ApiProperty({ type: [RetentionPolicyResponse] }) items!: RetentionPolicyResponse[];
}

export class PurgeResponse {
  @ApiProperty({ description: 'Records removed (tombstones left in the chain)' }) purged!: number;
  @ApiProperty() tombstones!: number;
  @ApiProperty({ description: 'Expired records kept under legal hold' }) held!: number;
  @ApiProperty() mediaRemoved!: number;
  @ApiProperty({ description: 'Media copies not removable yet (object lock): retried' })
  mediaPending!: number;

  static of(r: PurgeResult): PurgeResponse {
    return {
      purged: r.purged,
      tombstones: r.tombstones,
      held: r.held,
      mediaRemoved: r.mediaRemoved,
      mediaPending: r.mediaPending,
    };
  }
}

function scopeOf(value: string): RetentionScope {
  if (!(RETENTION_SCOPES as readonly string[]).includes(value))
    throw new ValidationFailedException([
      {
        field: 'scope',
        code: 'RETENTION_SCOPE_INVALID',
        message: `scope is one of ${RETENTION_SCOPES.join(', ')}`,
      },
    ]);
  return value as RetentionScope;
}

@ApiTags('retention')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/archive/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get('policies')
  @RequireRoles('compliance_officer', 'super_admin')
  @ApiOperation({ summary: 'The corp’s retention policies (officers, super admins)' })
  @ApiOkResponse({ type: RetentionPolicyListResponse })
  async list(@CurrentPrincipal() caller: Principal): Promise<RetentionPolicyListResponse> {
    const policies = await this.retention.policies(caller.corpId);
    return { items: policies.map((p) => RetentionPolicyResponse.of(p)) };
  }

  @Put('policies/:scope')
  @RequireRoles('super_admin')
  @ApiOperation({
    summary:
      'Set how long records of a scope are kept: default, internal, external, single, group, department, app, announcement (super admins; recorded in the access log)',
  })
  @ApiOkResponse({ type: RetentionPolicyResponse })
  async set(
    @CurrentPrincipal() caller: Principal,
    @Param('scope') scope: string,
    @Body() body: SetRetentionPolicyDto,
  ): Promise<RetentionPolicyResponse> {
    return RetentionPolicyResponse.of(
      await this.retention.setPolicy(caller, scopeOf(scope), body.retainDays),
    );
  }

  @Delete('policies/:scope')
  @HttpCode(204)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Remove a scope’s policy (super admins; recorded)' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() caller: Principal,
    @Param('scope') scope: string,
  ): Promise<void> {
    await this.retention.removePolicy(caller, scopeOf(scope));
  }

  @Post('purge')
  @HttpCode(200)
  @RequireRoles('super_admin')
  @ApiOperation({
    summary:
      'Run the retention purge for the corp now (it also runs every RETENTION_PURGE_INTERVAL_SECONDS); recorded',
  })
  @ApiOkResponse({ type: PurgeResponse })
  async purge(@CurrentPrincipal() caller: Principal): Promise<PurgeResponse> {
    return PurgeResponse.of(await this.retention.purgeNow(caller));
  }
}
