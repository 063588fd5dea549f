import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { TokensModule } from '../tokens/tokens.module';
import { TagsController } from './tags.controller';
import { TagsService } from './tags.service';

@Module({
  imports: [AccessModule, TokensModule],
  controllers: [TagsController],
  providers: [TagsService],
  exports: [TagsService],
})
export class TagsModule {}
