import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { TokensModule } from '../tokens/tokens.module';
import { AppsController } from './apps.controller';
import { AppsRepository } from './apps.repository';
import { AppsService } from './apps.service';

@Module({
  imports: [AccessModule, TokensModule],
  controllers: [AppsController],
  providers: [AppsService, AppsRepository],
  exports: [AppsService],
})
export class AppsModule {}
