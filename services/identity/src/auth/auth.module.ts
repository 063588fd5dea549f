import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { AuthController } from './auth.controller';
import { SignInService } from './sign-in.service';

@Module({
  imports: [TokensModule],
  controllers: [AuthController],
  providers: [SignInService],
})
export class AuthModule {}
