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
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { UseridPipe } from '../members/userid.pipe';
import {
  TotpActivationResponse,
  TotpCodeDto,
  TotpEnrollmentResponse,
  TotpPolicyDto,
  TotpStatusResponse,
} from './dto/totp.dto';
import { TotpService } from './totp.service';

@ApiTags('auth')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1')
export class TotpController {
  constructor(private readonly totp: TotpService) {}

  @Get('auth/totp')
  @ApiOperation({ summary: 'The caller’s TOTP second factor: off, pending or active' })
  @ApiOkResponse({ type: TotpStatusResponse })
  status(@CurrentPrincipal() principal: Principal): Promise<TotpStatusResponse> {
    return this.totp.status(principal.corpId, principal.userId);
  }

  @Post('auth/totp')
  @ApiOperation({
    summary: 'Enrol in TOTP: a new secret and otpauth:// URI, pending until activated',
  })
  @ApiCreatedResponse({ type: TotpEnrollmentResponse })
  enroll(@CurrentPrincipal() principal: Principal): Promise<TotpEnrollmentResponse> {
    return this.totp.enroll(principal.corpId, principal.userId);
  }

  @Post('auth/totp/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn TOTP on with a first code; returns the recovery codes once' })
  @ApiOkResponse({ type: TotpActivationResponse })
  activate(
    @CurrentPrincipal() principal: Principal,
    @Body() body: TotpCodeDto,
  ): Promise<TotpActivationResponse> {
    return this.totp.activate(principal.corpId, principal.userId, body.code);
  }

  @Post('auth/totp/disable')
  @HttpCode(204)
  @ApiOperation({ summary: 'Turn the caller’s TOTP off with a current code' })
  @ApiNoContentResponse()
  async disable(
    @CurrentPrincipal() principal: Principal,
    @Body() body: TotpCodeDto,
  ): Promise<void> {
    await this.totp.disable(principal.corpId, principal.userId, body.code);
  }

  @Delete('members/:userid/totp')
  @HttpCode(204)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Reset another member’s TOTP (they enrol again)' })
  @ApiNoContentResponse()
  async reset(
    @CurrentPrincipal() principal: Principal,
    @Param('userid', UseridPipe) userid: string,
  ): Promise<void> {
    await this.totp.reset(principal.corpId, principal.userId, userid);
  }

  @Get('corps/current/totp-policy')
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Whether the corp requires TOTP for admins' })
  @ApiOkResponse({ type: TotpPolicyDto })
  policy(@CurrentPrincipal() principal: Principal): Promise<TotpPolicyDto> {
    return this.totp.policy(principal.corpId);
  }

  @Put('corps/current/totp-policy')
  @RequireRoles('super_admin')
  @ApiOperation({
    summary:
      'Require TOTP for admins: until they turn it on, they sign in with the member role only',
  })
  @ApiOkResponse({ type: TotpPolicyDto })
  setPolicy(
    @CurrentPrincipal() principal: Principal,
    @Body() body: TotpPolicyDto,
  ): Promise<TotpPolicyDto> {
    return this.totp.setPolicy(principal.corpId, principal.userId, body.requireForAdmins);
  }
}
