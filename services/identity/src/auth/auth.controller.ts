import { Body, Controller, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles, type Principal } from '@qiwei/auth';
import { UseridPipe } from '../members/userid.pipe';
import { RefreshDto, SessionResponse, SetPasswordDto, SignInDto } from './dto/auth.dto';
import { SignInService } from './sign-in.service';

@ApiTags('auth')
@Controller('v1')
export class AuthController {
  constructor(private readonly signIn: SignInService) {}

  @Post('auth/sign-in')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with corp id, userid and password' })
  @ApiOkResponse({ type: SessionResponse })
  start(@Body() body: SignInDto): Promise<SessionResponse> {
    return this.signIn.signIn(body.corpId, body.userid, body.password);
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
    await this.signIn.setPassword(principal.corpId, userid, body.password);
  }
}
