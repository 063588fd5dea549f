import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { USERID_PATTERN } from '../../corps/dto/corp.dto';
import { RECOVERY_CODE_PATTERN } from '../../totp/recovery-codes';
import { TOTP_CODE_PATTERN } from '../../totp/dto/totp.dto';

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

export class SecondFactorDto {
  @ApiProperty({ description: 'The challenge the password step returned' })
  @IsString()
  @MinLength(16)
  @MaxLength(128)
  challenge!: string;

  @ApiPropertyOptional({
    example: '123456',
    description: 'A current TOTP code (or send `recoveryCode`)',
  })
  @IsOptional()
  @IsString()
  @Matches(TOTP_CODE_PATTERN, { message: 'code is 6 digits' })
  code?: string;

  @ApiPropertyOptional({
    example: '1a2b3-c4d5e-6f7a8-b9c0d',
    description: 'A one-time recovery code',
  })
  @IsOptional()
  @IsString()
  @Matches(RECOVERY_CODE_PATTERN, { message: 'recoveryCode is 20 hex digits, dashes allowed' })
  recoveryCode?: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  currentPassword!: string;

  @ApiProperty({ description: '10–128 characters, at least 4 different ones' })
  @IsString()
  @MaxLength(1024)
  newPassword!: string;
}

export class SecondFactorChallengeResponse {
  @ApiProperty({ enum: [true] }) secondFactorRequired!: true;
  @ApiProperty({
    description: 'Single use; send it with a code to `/v1/auth/sign-in/second-factor`',
  })
  challenge!: string;
  @ApiProperty({ description: 'Seconds until the challenge expires' }) challengeExpiresIn!: number;
}

export class SessionResponse {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn!: number;
  @ApiProperty({ description: 'Rotates on every use; using one twice ends the session' })
  refreshToken!: string;
  @ApiProperty({ description: 'Seconds until the refresh token expires' })
  refreshExpiresIn!: number;
  @ApiPropertyOptional({
    enum: [true],
    description:
      'The corp requires TOTP for admins and this admin has none: the session has the member role only until they turn it on',
  })
  totpEnrollmentRequired?: true;
}
