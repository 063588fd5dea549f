import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AppsModule } from '../apps/apps.module';
import { DepartmentsModule } from '../departments/departments.module';
import { MembersModule } from '../members/members.module';
import { TagsModule } from '../tags/tags.module';
import { TokensModule } from '../tokens/tokens.module';
import { WecomAccessTokenGuard } from './wecom-access-token.guard';
import { WecomDepartmentsController } from './wecom-departments.controller';
import { WecomEnvelope } from './wecom-envelope';
import { WecomTagsController } from './wecom-tags.controller';
import { WecomTokenController } from './wecom-token.controller';
import { WecomUsersController } from './wecom-users.controller';

/**
 * The WeCom-compatible contacts API under /cgi-bin: WeCom's paths, fields and errcodes, as a
 * thin layer over the same use cases (and so the same rules, scopes, ranges and audit) as /v1.
 */
@Module({
  imports: [AccessModule, AppsModule, DepartmentsModule, MembersModule, TagsModule, TokensModule],
  controllers: [
    WecomTokenController,
    WecomDepartmentsController,
    WecomUsersController,
    WecomTagsController,
  ],
  providers: [WecomAccessTokenGuard, WecomEnvelope],
})
export class WecomModule {}
