import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { TagsController } from './tags.controller';
import { TagsService } from './tags.service';

@Module({
  imports: [TokensModule],
  controllers: [TagsController],
  providers: [TagsService],
})
export class TagsModule {}
