import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsString, Matches } from 'class-validator';

export const TOTP_CODE_PATTERN = /^\d{6}$/;

export class TotpCodeDto {
  @ApiProperty({ example: '123456', description: 'The 6-digit code the authenticator app shows' })
  @IsString()
  @Matches(TOTP_CODE_PATTERN, { message: 'code is 6 digits' })
  code!: string;
}

export class TotpEnrollmentResponse {
  @ApiProperty({ description: 'Base32 secret, for typing into an authenticator app' })
  secret!: string;
  @ApiProperty({ example: 'otpauth://totp/Qiwei:zhangsan%40ww0123456789abcdef?secret=…' })
  otpauthUri!: string;
}

export class TotpActivationResponse {
  @ApiProperty({
    type: [String],
    description: 'One-time recovery codes, each usable once instead of a code; shown only now',
  })
  recoveryCodes!: string[];
}

export class TotpStatusResponse {
  @ApiProperty({ enum: ['off', 'pending', 'active'] }) state!: 'off' | 'pending' | 'active';
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) activatedAt!: Date | null;
  @ApiProperty() recoveryCodesLeft!: number;
}

export class TotpPolicyDto {
  @ApiProperty({ description: 'Admins (any role besides member) must use TOTP' })
  @IsBoolean()
  requireForAdmins!: boolean;
}
