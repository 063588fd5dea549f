import {
  AppCreatedSchema,
  AppDeletedSchema,
  AppSecretRotatedSchema,
  AppUpdatedSchema,
} from '../gen/qiwei/identity/v1/app_pb';
import { CorpCreatedSchema } from '../gen/qiwei/identity/v1/corp_pb';
import {
  DepartmentCreatedSchema,
  DepartmentDeletedSchema,
  DepartmentMovedSchema,
  DepartmentUpdatedSchema,
} from '../gen/qiwei/identity/v1/department_pb';
import {
  MemberCreatedSchema,
  MemberDeletedSchema,
  MemberDisabledSchema,
  MemberEnabledSchema,
  MemberLeftSchema,
  MemberUpdatedSchema,
} from '../gen/qiwei/identity/v1/member_pb';
import {
  TagCreatedSchema,
  TagDeletedSchema,
  TagMembersChangedSchema,
  TagUpdatedSchema,
} from '../gen/qiwei/identity/v1/tag_pb';
import { defineTopic } from '../topic';

const DAY_MS = 24 * 60 * 60 * 1000;

export const IDENTITY_CORP_TOPIC = defineTopic({
  name: 'qiwei.identity.corp.v1',
  publisher: 'identity',
  summary: 'Corps (tenants) as they are created.',
  key: 'corpId: all events of one corp stay in order.',
  partitions: 3,
  retentionMs: -1,
  events: [
    {
      type: 'qiwei.identity.corp.created.v1',
      schema: CorpCreatedSchema,
      summary: 'A corp was created with its root department.',
    },
  ],
});

export const IDENTITY_DEPARTMENT_TOPIC = defineTopic({
  name: 'qiwei.identity.department.v1',
  publisher: 'identity',
  summary:
    'The department tree of every corp. Each event carries the full current state of the department.',
  key: 'corpId: every change to one corp’s tree stays in order (moves touch whole subtrees).',
  partitions: 6,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.identity.department.created.v1',
      schema: DepartmentCreatedSchema,
      summary: 'A department was created.',
    },
    {
      type: 'qiwei.identity.department.updated.v1',
      schema: DepartmentUpdatedSchema,
      summary: 'A department was renamed or reordered.',
    },
    {
      type: 'qiwei.identity.department.moved.v1',
      schema: DepartmentMovedSchema,
      summary: 'A department moved, with its subtree, under a new parent.',
    },
    {
      type: 'qiwei.identity.department.deleted.v1',
      schema: DepartmentDeletedSchema,
      summary: 'A department was deleted.',
    },
  ],
});

export const IDENTITY_MEMBER_TOPIC = defineTopic({
  name: 'qiwei.identity.member.v1',
  publisher: 'identity',
  summary:
    'The members of every corp. Each event but deleted carries the full current state of the member.',
  key: 'corpId: every change to one corp’s directory stays in order.',
  partitions: 6,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.identity.member.created.v1',
      schema: MemberCreatedSchema,
      summary: 'A member was added.',
    },
    {
      type: 'qiwei.identity.member.updated.v1',
      schema: MemberUpdatedSchema,
      summary: 'A member’s profile or departments changed.',
    },
    {
      type: 'qiwei.identity.member.disabled.v1',
      schema: MemberDisabledSchema,
      summary: 'A member was disabled.',
    },
    {
      type: 'qiwei.identity.member.enabled.v1',
      schema: MemberEnabledSchema,
      summary: 'A disabled member was enabled again.',
    },
    {
      type: 'qiwei.identity.member.left.v1',
      schema: MemberLeftSchema,
      summary: 'A member left the corp.',
    },
    {
      type: 'qiwei.identity.member.deleted.v1',
      schema: MemberDeletedSchema,
      summary: 'A member was deleted.',
    },
  ],
});

export const IDENTITY_TAG_TOPIC = defineTopic({
  name: 'qiwei.identity.tag.v1',
  publisher: 'identity',
  summary: 'Tags (标签) and whom they name. Each event but deleted carries the whole tag.',
  key: 'corpId: every change to one corp’s tags stays in order.',
  partitions: 3,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.identity.tag.created.v1',
      schema: TagCreatedSchema,
      summary: 'A tag was created.',
    },
    {
      type: 'qiwei.identity.tag.updated.v1',
      schema: TagUpdatedSchema,
      summary: 'A tag was renamed.',
    },
    {
      type: 'qiwei.identity.tag.members_changed.v1',
      schema: TagMembersChangedSchema,
      summary: 'Members or departments were added to or removed from a tag.',
    },
    {
      type: 'qiwei.identity.tag.deleted.v1',
      schema: TagDeletedSchema,
      summary: 'A tag was deleted.',
    },
  ],
});

export const IDENTITY_APP_TOPIC = defineTopic({
  name: 'qiwei.identity.app.v1',
  publisher: 'identity',
  summary:
    'Apps (自建应用) and their visibility ranges. Each event but deleted carries the whole app, never its secret.',
  key: 'corpId: every change to one corp’s apps stays in order.',
  partitions: 3,
  retentionMs: 30 * DAY_MS,
  events: [
    {
      type: 'qiwei.identity.app.created.v1',
      schema: AppCreatedSchema,
      summary: 'An app was created.',
    },
    {
      type: 'qiwei.identity.app.updated.v1',
      schema: AppUpdatedSchema,
      summary: 'An app was renamed, described or given another visibility range.',
    },
    {
      type: 'qiwei.identity.app.secret_rotated.v1',
      schema: AppSecretRotatedSchema,
      summary: 'An app’s secret was replaced; tokens issued before stop working.',
    },
    {
      type: 'qiwei.identity.app.deleted.v1',
      schema: AppDeletedSchema,
      summary: 'An app was deleted; its tokens stop working.',
    },
  ],
});

export const IDENTITY_TOPICS = [
  IDENTITY_CORP_TOPIC,
  IDENTITY_DEPARTMENT_TOPIC,
  IDENTITY_MEMBER_TOPIC,
  IDENTITY_TAG_TOPIC,
  IDENTITY_APP_TOPIC,
] as const;
