import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { DEFAULT_PAGE_SIZE, PageQuery } from '@qiwei/platform';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { UuidPipe } from '../archive/uuid.pipe';
import { MattersService, type Matter } from './matters.service';

export const MATTER_MAX_CUSTODIANS = 50;
export const MATTER_MAX_CONVERSATIONS = 50;

export class CreateMatterDto {
  @ApiProperty({ minLength: 1, maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MATTER_MAX_CUSTODIANS,
    description: 'Members whose conversations are held (any they took part in)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MATTER_MAX_CUSTODIANS)
  @ArrayUnique()
  @Matches(/^[A-Za-z0-9_@.-]{1,64}$/, { each: true, message: 'each custodian is a userid' })
  custodians?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: MATTER_MAX_CONVERSATIONS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MATTER_MAX_CONVERSATIONS)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  conversationIds?: string[];

  @ApiPropertyOptional({ description: 'Held from (inclusive), ISO 8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Held until (exclusive), ISO 8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class ReleaseMatterDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  @Matches(/\S/, { message: 'note must not be blank' })
  note!: string;
}

export class MattersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['active', 'released'] })
  @IsOptional()
  @IsIn(['active', 'released'])
  status?: 'active' | 'released';
}

export class MatterResponse {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String] }) custodians!: string[];
  @ApiProperty({ type: [String] }) conversationIds!: string[];
  @ApiProperty({ nullable: true, type: String }) from!: string | null;
  @ApiProperty({ nullable: true, type: String }) to!: string | null;
  @ApiProperty({ enum: ['active', 'released'] }) status!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) releasedBy!: string | null;
  @ApiProperty({ nullable: true, type: String }) releasedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) releaseNote!: string | null;

  static of(m: Matter): MatterResponse {
    return {
      id: m.id,
      name: m.name,
      description: m.description,
      custodians: m.custodians,
      conversationIds: m.conversationIds,
      from: m.from?.toISOString() ?? null,
      to: m.to?.toISOString() ?? null,
      status: m.status,
      createdBy: m.createdBy,
      createdAt: m.createdAt.toISOString(),
      releasedBy: m.releasedBy,
      releasedAt: m.releasedAt?.toISOString() ?? null,
      releaseNote: m.releaseNote,
    };
  }
}

export class MatterDetailResponse extends MatterResponse {
  @ApiProperty({ description: 'Archived records the matter holds (whether active or not)' })
  heldRecords!: number;
}

export class MatterPageResponse {
  @ApiProperty({ type: [MatterResponse] }) items!: MatterResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

@ApiTags('legal hold')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@RequireRoles('compliance_officer', 'super_admin')
@Controller('v1/archive/matters')
export class MattersController {
  constructor(private readonly matters: MattersService) {}

  @Post()
  @ApiOperation({
    summary:
      'Open a legal matter: hold custodians’ conversations, conversations and/or a time range from retention (recorded in the access log)',
  })
  @ApiCreatedResponse({ type: MatterResponse })
  async create(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateMatterDto,
  ): Promise<MatterResponse> {
    const matter = await this.matters.create(caller, {
      name: body.name,
      description: body.description ?? '',
      custodians: body.custodians ?? [],
      conversationIds: (body.conversationIds ?? []).map((c) => c.toLowerCase()),
      from: body.from ? new Date(body.from) : null,
      to: body.to ? new Date(body.to) : null,
    });
    return MatterResponse.of(matter);
  }

  @Get()
  @ApiOperation({ summary: 'The corp’s legal matters, newest first' })
  @ApiOkResponse({ type: MatterPageResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: MattersQuery,
  ): Promise<MatterPageResponse> {
    const page = await this.matters.list(caller.corpId, {
      status: query.status,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { items: page.items.map((m) => MatterResponse.of(m)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A legal matter and how many archived records it holds' })
  @ApiOkResponse({ type: MatterDetailResponse })
  async get(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<MatterDetailResponse> {
    const matter = await this.matters.get(caller.corpId, id);
    return { ...MatterResponse.of(matter), heldRecords: matter.heldRecords };
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Release a matter: its records follow retention again (recorded in the access log)',
  })
  @ApiOkResponse({ type: MatterResponse })
  async release(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: ReleaseMatterDto,
  ): Promise<MatterResponse> {
    return MatterResponse.of(await this.matters.release(caller, id, body.note));
  }
}
