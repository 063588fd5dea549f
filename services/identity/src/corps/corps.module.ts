import { Module } from '@nestjs/common';
import { DepartmentsModule } from '../departments/departments.module';
import { MembersModule } from '../members/members.module';
import { TokensModule } from '../tokens/tokens.module';
import { CorpsController } from './corps.controller';
import { CreateCorpUseCase } from './create-corp.usecase';

@Module({
  imports: [DepartmentsModule, MembersModule, TokensModule],
  controllers: [CorpsController],
  providers: [CreateCorpUseCase],
})
export class CorpsModule {}
