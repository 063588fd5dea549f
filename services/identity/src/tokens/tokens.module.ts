import { Module } from '@nestjs/common';
import { TOKEN_VERIFIER } from '@qiwei/auth';
import { CryptoModule } from '../crypto/crypto.module';
import { AccessTokensService } from './access-tokens.service';
import { JwksController } from './jwks.controller';
import { SigningKeysService } from './signing-keys.service';

@Module({
  imports: [CryptoModule],
  controllers: [JwksController],
  providers: [
    SigningKeysService,
    AccessTokensService,
    {
      provide: TOKEN_VERIFIER,
      inject: [AccessTokensService],
      useFactory: (t: AccessTokensService) => t.verifier,
    },
  ],
  exports: [AccessTokensService, TOKEN_VERIFIER],
})
export class TokensModule {}
