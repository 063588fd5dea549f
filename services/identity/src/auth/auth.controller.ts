import { Body, Controller, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { UseridPipe } from '../members/userid.pipe';
import { ValidationFailedException } from '@qiwei/platform';
import {
  ChangePasswordDto,
  RefreshDto,
  SecondFactorChallengeResponse,
  SecondFactorDto,
  SessionResponse,
  SetPasswordDto,
  SignInDto,
} from './dto/auth.dto';
import { SignInService } from './sign-in.service';

@ApiTags('auth')
@ApiExtraModels(SessionResponse, SecondFactorChallengeResponse)
@Controller('v1')
export class AuthController {
  constructor(private readonly signIn: SignInService) {}

  @Post('auth/sign-in')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in with corp id, userid and password',
    description:
      'A member with TOTP on gets `secondFactorRequired` and a challenge instead of tokens.',
  })
  @ApiOkResponse({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(SessionResponse) },
        { $ref: getSchemaPath(SecondFactorChallengeResponse) },
      ],
    },
  })
  start(@Body() body: SignInDto): Promise<SessionResponse | SecondFactorChallengeResponse> {
    return this.signIn.signIn(body.corpId, body.userid, body.password);
  }

  @Post('auth/sign-in/second-factor')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Complete a sign-in with the challenge and a TOTP code or a recovery code',
  })
  @ApiOkResponse({ type: SessionResponse })
  secondFactor(@Body() body: SecondFactorDto): Promise<SessionResponse> {
    const { challenge, code, recoveryCode } = body;
    if (code !== undefined && recoveryCode === undefined)
      return this.signIn.signInWithSecondFactor(challenge, { code });
    if (recoveryCode !== undefined && code === undefined)
      return this.signIn.signInWithSecondFactor(challenge, { recoveryCode });
    const message = 'Send either code or recoveryCode.';
    throw new ValidationFailedException([{ field: 'code', code: 'ONE_OF_REQUIRED', message }]);
  }

  @Post('auth/password')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(BearerAuthGuard)
  @ApiOperation({
    summary: 'Change your own password (ends your other sessions; returns a new one)',
  })
  @ApiOkResponse({ type: SessionResponse })
  changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ChangePasswordDto,
  ): Promise<SessionResponse> {
    return this.signIn.changePassword(
      principal.corpId,
      principal.userId,
      body.currentPassword,
      body.newPassword,
    );
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for new tokens (the old one stops working)' })
  @ApiOkResponse({ type: SessionResponse })
  refresh(@Body() body: RefreshDto): Promise<SessionResponse> {
    return this.signIn.refresh(body.refreshToken);
  }

  @Post('auth/sign-out')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session of a refresh token' })
  @ApiNoContentResponse()
  async signOut(@Body() body: RefreshDto): Promise<void> {
    await this.signIn.signOut(body.refreshToken);
  }

  @Put('members/:userid/password')
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(BearerAuthGuard)
  @RequireRoles('super_admin')
  @ApiOperation({ summary: 'Set a member’s password (ends their sessions, lifts a lock)' })
  @ApiNoContentResponse()
  async setPassword(
    @CurrentPrincipal() principal: Principal,
    @Param('userid', UseridPipe) userid: string,
    @Body() body: SetPasswordDto,
  ): Promise<void> {
    await this.signIn.setPassword(principal.corpId, principal.userId, userid, body.password);
  }
}
