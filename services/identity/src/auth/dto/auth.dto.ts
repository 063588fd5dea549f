import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { USERID_PATTERN } from '../../corps/dto/corp.dto';

export class SignInDto {
  @ApiProperty({ example: 'ww0123456789abcdef' })
  @IsString()
  @Matches(/^ww[0-9a-f]{16}$/, { message: 'corpId is `ww` followed by 16 hex digits' })
  corpId!: string;

  @ApiProperty({ example: 'zhangsan' })
  @IsString()
  @Matches(USERID_PATTERN, { message: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -' })
  userid!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @MinLength(16)
  @MaxLength(128)
  refreshToken!: string;
}

export class SetPasswordDto {
  @ApiProperty({ description: '10–128 characters, at least 4 different ones' })
  @IsString()
  @MaxLength(1024)
  password!: string;
}

export class SessionResponse {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn!: number;
  @ApiProperty({ description: 'Rotates on every use; using one twice ends the session' })
  refreshToken!: string;
  @ApiProperty({ description: 'Seconds until the refresh token expires' })
  refreshExpiresIn!: number;
}
