import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { DepartmentResponse } from '../../departments/dto/department.dto';

export const USERID_PATTERN = /^[A-Za-z0-9_@.-]{1,64}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
const NO_FORBIDDEN_CHARACTERS = /^[^\\:*?"<>|\u0000-\u001f\u007f]*$/;

export class CorpAdminDto {
  @ApiProperty({ description: '1–64 of A–Z a–z 0–9 _ @ . -', example: 'zhangsan' })
  @IsString()
  @Matches(USERID_PATTERN, { message: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -' })
  userid!: string;

  @ApiProperty({ example: '张三' })
  @IsString()
  @Length(1, 64)
  name!: string;
}

export class CreateCorpDto {
  @ApiProperty({ description: 'Also the name of the root department', example: '示例科技有限公司' })
  @IsString()
  @Length(1, 64)
  @Matches(NO_FORBIDDEN_CHARACTERS, {
    message: 'name must not contain \\ : * ? " < > | or control characters',
  })
  name!: string;

  @ApiProperty({ type: CorpAdminDto, description: 'The first super admin' })
  @IsDefined()
  @ValidateNested()
  @Type(() => CorpAdminDto)
  admin!: CorpAdminDto;
}

export class IssueAdminTokenDto {
  @ApiProperty({ description: 'A super admin of the corp' })
  @IsString()
  @Matches(USERID_PATTERN, { message: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -' })
  userid!: string;
}

export class CorpResponse {
  @ApiProperty({ example: 'ww0123456789abcdef' }) corpId!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: string;
}

export class AccessTokenResponse {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Seconds until the token expires' }) expiresIn!: number;
}

export class CorpAdminResponse {
  @ApiProperty() userid!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [String] }) roles!: string[];
}

export class CreatedCorpResponse extends AccessTokenResponse {
  @ApiProperty({ type: CorpResponse }) corp!: CorpResponse;
  @ApiProperty({ type: DepartmentResponse }) rootDepartment!: DepartmentResponse;
  @ApiProperty({ type: CorpAdminResponse }) admin!: CorpAdminResponse;
}
