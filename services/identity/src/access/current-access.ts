import { Injectable, type PipeTransform } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@qiwei/auth';
import type { Access } from './access';
import { AccessService } from './access.service';

/** Turns the authenticated principal into what they may see and change. */
@Injectable()
export class ResolveAccessPipe implements PipeTransform<Principal, Promise<Access>> {
  constructor(private readonly access: AccessService) {}

  transform(principal: Principal): Promise<Access> {
    return this.access.resolve(principal);
  }
}

/** The caller's `Access` (behind `BearerAuthGuard`). */
export const CurrentAccess = () => CurrentPrincipal(ResolveAccessPipe);
