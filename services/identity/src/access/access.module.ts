import { Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { ResolveAccessPipe } from './current-access';

@Module({
  providers: [AccessService, ResolveAccessPipe],
  exports: [AccessService, ResolveAccessPipe],
})
export class AccessModule {}
