import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { TotpModule } from '../totp/totp.module';
import { AuthController } from './auth.controller';
import { SignInService } from './sign-in.service';

@Module({
  imports: [TokensModule, TotpModule],
  controllers: [AuthController],
  providers: [SignInService],
})
export class AuthModule {}
