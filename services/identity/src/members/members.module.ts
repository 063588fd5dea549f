import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { DepartmentsModule } from '../departments/departments.module';
import { TokensModule } from '../tokens/tokens.module';
import { MembersController } from './members.controller';
import { MembersRepository } from './members.repository';
import { MembersService } from './members.service';

@Module({
  imports: [AccessModule, DepartmentsModule, TokensModule],
  controllers: [MembersController],
  providers: [MembersService, MembersRepository],
  exports: [MembersService, MembersRepository],
})
export class MembersModule {}
