import { Module } from '@nestjs/common';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { SecretCipher } from './secret-cipher';

/** Encryption at rest for the secrets identity keeps (signing keys, TOTP secrets). */
@Module({
  providers: [
    {
      provide: SecretCipher,
      inject: [IDENTITY_CONFIG],
      useFactory: (config: IdentityConfig) => new SecretCipher(config.IDENTITY_KEY_ENCRYPTION_KEY),
    },
  ],
  exports: [SecretCipher],
})
export class CryptoModule {}
