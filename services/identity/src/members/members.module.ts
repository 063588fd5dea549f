import { Module } from '@nestjs/common';
import { DepartmentsModule } from '../departments/departments.module';
import { TokensModule } from '../tokens/tokens.module';
import { MembersController } from './members.controller';
import { MembersRepository } from './members.repository';
import { MembersService } from './members.service';

@Module({
  imports: [DepartmentsModule, TokensModule],
  controllers: [MembersController],
  providers: [MembersService, MembersRepository],
})
export class MembersModule {}
