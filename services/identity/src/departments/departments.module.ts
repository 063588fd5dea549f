import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { TokensModule } from '../tokens/tokens.module';
import { DepartmentRepository } from './department.repository';
import { DepartmentsController } from './departments.controller';
import { DepartmentsService } from './departments.service';

@Module({
  imports: [AccessModule, TokensModule],
  controllers: [DepartmentsController],
  providers: [DepartmentsService, DepartmentRepository],
  exports: [DepartmentsService],
})
export class DepartmentsModule {}
