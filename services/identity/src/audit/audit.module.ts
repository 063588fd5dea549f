import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TokensModule } from '../tokens/tokens.module';
import { AuditController } from './audit.controller';
import { RequestContextInterceptor } from './request-context';

@Module({
  imports: [TokensModule],
  controllers: [AuditController],
  providers: [{ provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor }],
})
export class AuditModule {}
