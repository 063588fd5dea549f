import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { USERID_PATTERN } from '../../corps/dto/corp.dto';
import { APP_PERMISSIONS, type App, type AppPermission } from '../apps.repository';

const INT32_MAX = 2_147_483_647;
const NOT_BLANK = /\S/;

export class AppRangeDto {
  @ApiProperty({ type: [Number], description: 'Department subtrees the app may read' })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  departmentIds!: number[];

  @ApiProperty({ type: [String], description: 'Members the app may read' })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Matches(USERID_PATTERN, {
    each: true,
    message: 'each userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
  })
  userids!: string[];

  @ApiProperty({ type: [Number], description: 'Tags whose members and departments it may read' })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(INT32_MAX, { each: true })
  tagIds!: number[];
}

export class CreateAppDto {
  @ApiProperty({ example: '审批助手', description: '1–64 characters, unique in the corp' })
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;

  @ApiProperty({ type: AppRangeDto, description: 'Whom the app may read and address' })
  @IsDefined()
  @ValidateNested()
  @Type(() => AppRangeDto)
  range!: AppRangeDto;

  @ApiPropertyOptional({
    enum: APP_PERMISSIONS,
    isArray: true,
    description:
      'What the app may change inside its range’s department subtrees (a contacts-sync app has contacts:edit)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(APP_PERMISSIONS.length)
  @IsIn(APP_PERMISSIONS, { each: true })
  permissions?: AppPermission[];
}

export class UpdateAppDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;

  @ApiPropertyOptional({ type: AppRangeDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AppRangeDto)
  range?: AppRangeDto;

  @ApiPropertyOptional({
    enum: APP_PERMISSIONS,
    isArray: true,
    description:
      'What the app may change inside its range’s department subtrees (a contacts-sync app has contacts:edit)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(APP_PERMISSIONS.length)
  @IsIn(APP_PERMISSIONS, { each: true })
  permissions?: AppPermission[];
}

export class AppTokenRequestDto {
  @ApiProperty({ example: 'ww0123456789abcdef' })
  @IsString()
  @MaxLength(64)
  corpId!: string;

  @ApiProperty({ description: 'The app secret, as shown once at creation or rotation' })
  @IsString()
  @MaxLength(256)
  secret!: string;
}

export class AppResponse {
  @ApiProperty({ example: 1000002 }) agentid!: number;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: AppRangeDto }) range!: AppRangeDto;
  @ApiProperty({ enum: APP_PERMISSIONS, isArray: true }) permissions!: AppPermission[];
  @ApiProperty({ nullable: true, type: String }) createdBy!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static of(app: App): AppResponse {
    return {
      agentid: app.agentId,
      name: app.name,
      description: app.description,
      range: app.range,
      permissions: app.permissions,
      createdBy: app.createdBy,
      createdAt: app.createdAt.toISOString(),
      updatedAt: app.updatedAt.toISOString(),
    };
  }
}

export class AppWithSecretResponse extends AppResponse {
  @ApiProperty({ description: 'Shown only now: store it; only its hash is kept' })
  secret!: string;
}

export class AppPageResponse {
  @ApiProperty({ type: [AppResponse] }) items!: AppResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class AppTokenResponse {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ example: 7200 }) expiresIn!: number;
  @ApiProperty({ example: 1000002 }) agentid!: number;
}
