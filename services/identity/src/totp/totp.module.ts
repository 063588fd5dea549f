import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module';
import { TokensModule } from '../tokens/tokens.module';
import { TotpController } from './totp.controller';
import { TotpService } from './totp.service';

@Module({
  imports: [CryptoModule, TokensModule],
  controllers: [TotpController],
  providers: [TotpService],
  exports: [TotpService],
})
export class TotpModule {}
