import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DEFAULT_PAGE_SIZE } from '@qiwei/platform';
import { UuidPipe } from '../archive/uuid.pipe';
import { Coverage } from '../coverage/coverage';
import { AlertRulesService } from './alert-rules.service';
import { AlertsService } from './alerts.service';
import {
  AlertPageResponse,
  AlertResponse,
  AlertRuleListResponse,
  AlertRuleResponse,
  AlertsQuery,
  AssignAlertDto,
  CloseAlertDto,
  CreateAlertRuleDto,
  UpdateAlertRuleDto,
} from './dto/alert.dto';

@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer')
@Controller('v1/archive')
export class AlertsController {
  constructor(
    private readonly rules: AlertRulesService,
    private readonly alerts: AlertsService,
    private readonly coverage: Coverage,
  ) {}

  @Post('alert-rules')
  @ApiOperation({
    summary: 'Add a keyword or regex rule (敏感词), checked on every archived message',
  })
  @ApiCreatedResponse({ type: AlertRuleResponse })
  async createRule(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateAlertRuleDto,
  ): Promise<AlertRuleResponse> {
    return AlertRuleResponse.of(await this.rules.create(caller, body));
  }

  @Get('alert-rules')
  @ApiOperation({ summary: 'The corp’s alert rules' })
  @ApiOkResponse({ type: AlertRuleListResponse })
  async listRules(@CurrentPrincipal() caller: Principal): Promise<AlertRuleListResponse> {
    return { items: (await this.rules.list(caller.corpId)).map((r) => AlertRuleResponse.of(r)) };
  }

  @Get('alert-rules/:id')
  @ApiOkResponse({ type: AlertRuleResponse })
  async getRule(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<AlertRuleResponse> {
    return AlertRuleResponse.of(await this.rules.get(caller.corpId, id));
  }

  @Patch('alert-rules/:id')
  @ApiOperation({ summary: 'Change or disable a rule (rules are never deleted: alerts name them)' })
  @ApiOkResponse({ type: AlertRuleResponse })
  async updateRule(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: UpdateAlertRuleDto,
  ): Promise<AlertRuleResponse> {
    return AlertRuleResponse.of(await this.rules.update(caller, id, body));
  }

  @Get('alerts')
  @ApiOperation({
    summary:
      'Alerts, newest first, within the officer’s department coverage; filter by status, rule (its hits), assignee, sender',
  })
  @ApiOkResponse({ type: AlertPageResponse })
  async listAlerts(
    @CurrentPrincipal() caller: Principal,
    @Query() query: AlertsQuery,
  ): Promise<AlertPageResponse> {
    const page = await this.alerts.list(caller.corpId, {
      coverage: await this.coverage.of(caller.corpId, caller.userId),
      status: query.status,
      ruleId: query.ruleId?.toLowerCase(),
      assignee: query.assignee,
      sender: query.sender,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { items: page.items.map((a) => AlertResponse.of(a)), nextCursor: page.nextCursor };
  }

  @Get('alerts/:id')
  @ApiOkResponse({ type: AlertResponse })
  async getAlert(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<AlertResponse> {
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    return AlertResponse.of(await this.alerts.get(caller.corpId, id, undefined, false, coverage));
  }

  @Post('alerts/:id/assign')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assign an alert to a compliance officer' })
  @ApiOkResponse({ type: AlertResponse })
  async assign(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: AssignAlertDto,
  ): Promise<AlertResponse> {
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    return AlertResponse.of(await this.alerts.assign(caller, id, body.assignee, coverage));
  }

  @Post('alerts/:id/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close an alert with a note' })
  @ApiOkResponse({ type: AlertResponse })
  async close(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: CloseAlertDto,
  ): Promise<AlertResponse> {
    const coverage = await this.coverage.of(caller.corpId, caller.userId);
    return AlertResponse.of(await this.alerts.close(caller, id, body.note, coverage));
  }
}
