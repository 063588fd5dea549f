import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create, toJson, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import {
  AlertAssignedSchema,
  AlertClosedSchema,
  AlertRaisedSchema,
  CorpCreatedSchema,
  deadLetterTopicOf,
  DepartmentCreatedSchema,
  DepartmentDeletedSchema,
  DepartmentMovedSchema,
  DepartmentUpdatedSchema,
  MemberCreatedSchema,
  MemberDeletedSchema,
  MemberDisabledSchema,
  MemberEnabledSchema,
  MemberLeftSchema,
  MemberUpdatedSchema,
  AppCreatedSchema,
  AppMessageRecalledSchema,
  AppMessageSentSchema,
  AnnouncementExpiredSchema,
  AnnouncementPublishedSchema,
  AnnouncementReadSchema,
  AnnouncementRemindedSchema,
  AnnouncementUpdatedSchema,
  AnnouncementWithdrawnSchema,
  ConversationCreatedSchema,
  ConversationDisbandedSchema,
  ConversationExternalContactsAddedSchema,
  ConversationExternalContactsRemovedSchema,
  ConversationMembersAddedSchema,
  ConversationMembersLeftOutSchema,
  ConversationMembersRemovedSchema,
  ConversationSettingsChangedSchema,
  MessageReadSchema,
  MessageRecalledSchema,
  MessageSentSchema,
  MessageUrgentRemindedSchema,
  AppDeletedSchema,
  AppSecretRotatedSchema,
  AppUpdatedSchema,
  TagCreatedSchema,
  TagDeletedSchema,
  TagMembersChangedSchema,
  TagUpdatedSchema,
  TOPIC_CATALOG,
} from '@qiwei/contracts';
import { REPO_ROOT } from '@qiwei/testing';
import { parse } from 'yaml';
import { buildAsyncApiDocument, renderAsyncApiYaml } from '../src/generate-asyncapi';
import type { JsonSchema } from '../src/proto-json-schema';
import { workspaceVersion } from '../src/workspace-version';
import { validateJsonSchema } from './support/validate-json-schema';

const DOC_PATH = join(REPO_ROOT, 'docs/asyncapi.yaml');

interface ParsedMessage {
  headers: JsonSchema;
  payload: JsonSchema;
}

interface ParsedYaml {
  components: { messages: Record<string, ParsedMessage>; schemas: Record<string, JsonSchema> };
}

const department = {
  corpId: 'ww0123456789abcdef',
  id: 7,
  parentId: 1,
  name: '研发部',
  order: 100,
  depth: 2,
  path: [1, 7],
  visibility: 'restricted',
  visibleToRoles: ['super_admin'],
  visibleToDepartmentIds: [3],
  createdAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
  updatedAt: timestampFromDate(new Date('2025-03-02T09:30:00.123Z')),
};

const member = {
  corpId: 'ww0123456789abcdef',
  userid: 'zhangsan',
  name: '张三',
  mobile: '13800138000',
  position: '工程师',
  gender: 'male',
  status: 'active',
  roles: ['member', 'department_admin'],
  tokensValidAfter: timestampFromDate(new Date('2025-03-02T09:30:00Z')),
  adminScopes: [{ departmentId: 7, permissions: ['contacts:edit'] }],
  departments: [{ departmentId: 7, order: 2, isLeader: true }],
  mainDepartmentId: 7,
  directLeaders: ['lisi'],
  joinedAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
  createdAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
  updatedAt: timestampFromDate(new Date('2025-03-02T09:30:00Z')),
};

const tag = {
  corpId: 'ww0123456789abcdef',
  id: 3,
  name: '客户经理',
  userids: ['zhangsan'],
  departmentIds: [],
  createdAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
  updatedAt: timestampFromDate(new Date('2025-03-02T09:30:00Z')),
};

const app = {
  corpId: 'ww0123456789abcdef',
  agentid: 1000002,
  name: '审批助手',
  description: '推送审批结果',
  range: { departmentIds: [7], userids: ['lisi'], tagIds: [3] },
  permissions: ['contacts:edit'],
  createdAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
  updatedAt: timestampFromDate(new Date('2025-03-02T09:30:00Z')),
};

const conversation = {
  corpId: 'ww0123456789abcdef',
  id: '0b7e2c4e-4a3f-4d9a-9a52-2f1c8d6b7e10',
  kind: 'group',
  name: '项目组',
  owner: 'zhangsan',
  onlyAdminsPost: false,
  onlyOwnerInvites: true,
  memberLimit: 2000,
  participants: [
    {
      userid: 'zhangsan',
      role: 'owner',
      joinedAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
    },
    {
      userid: 'lisi',
      role: 'member',
      joinedAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
    },
  ],
  lastSeq: 42n,
  createdAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
  updatedAt: timestampFromDate(new Date('2025-03-02T09:30:00Z')),
};

/** An external group (客户群) with its notice, welcome message and tags. */
const externalGroup = {
  ...conversation,
  id: '7c1d9e2a-5b3f-4e8a-b6d4-0f2e3a1c9b58',
  kind: 'external',
  name: '华东客户群',
  memberLimit: 500,
  externalParticipants: ['wmAbCdEf0123456789abcdefGHIJKLmn'],
  notice: {
    version: 2,
    text: '本群用于产品咨询，请勿发送广告',
    publishedBy: 'zhangsan',
    publishedAt: timestampFromDate(new Date('2025-03-02T09:00:00Z')),
  },
  welcomeMessage: '欢迎加入，有问题请随时提出',
  tags: ['重点客户', '华东'],
};

const alert = {
  corpId: 'ww0123456789abcdef',
  id: '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
  ruleId: '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b',
  ruleName: '保本承诺',
  ruleKind: 'keyword',
  messageId: '5d0f6a3e-1c2b-4e8f-9a7d-3b6c2e1f0a94',
  conversationId: conversation.id,
  conversationKind: 'group',
  sender: 'zhangsan',
  matchedText: '保本保息',
  archiveSeq: 1024n,
  status: 'open',
  assignee: '',
  note: '',
  sentAt: timestampFromDate(new Date('2025-03-02T09:30:00.250Z')),
  createdAt: timestampFromDate(new Date('2025-03-02T09:30:01Z')),
  updatedAt: timestampFromDate(new Date('2025-03-02T09:30:01Z')),
};

const announcement = {
  corpId: 'ww0123456789abcdef',
  id: '3e9b1c2d-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
  publisher: 'zhangsan',
  title: '春节放假通知',
  body: '各位同事：**2月9日至17日**放假，详见[安排](https://intranet.example.com/holiday)。',
  format: 'markdown',
  attachments: [
    {
      mediaId: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
      kind: 'file',
      bucket: 'qiwei-messaging-media',
      objectKey: 'ww0123456789abcdef/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
      size: 48213n,
      sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      filename: '值班表.pdf',
      contentType: 'application/pdf',
    },
  ],
  priority: 'important',
  pinned: true,
  noForward: true,
  targets: { all: false, departmentIds: [7], tagIds: [3], userids: ['lisi'] },
  publishedAt: timestampFromDate(new Date('2025-01-20T09:00:00Z')),
  expiresAt: timestampFromDate(new Date('2025-02-18T00:00:00Z')),
};

/** A realistic payload of every event type in the catalog, as identity will publish it. */
const REAL_PAYLOADS: ReadonlyMap<DescMessage, MessageInitShape<DescMessage>> = new Map<
  DescMessage,
  MessageInitShape<DescMessage>
>([
  [
    CorpCreatedSchema,
    {
      corp: {
        corpId: 'ww0123456789abcdef',
        name: '企微科技',
        createdAt: timestampFromDate(new Date('2025-03-01T08:00:00Z')),
      },
    },
  ],
  [DepartmentCreatedSchema, { department }],
  [DepartmentUpdatedSchema, { department: { ...department, name: '平台研发部' } }],
  [DepartmentMovedSchema, { department: { ...department, parentId: 3 }, previousParentId: 1 }],
  [
    DepartmentDeletedSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: 7,
      deletedAt: timestampFromDate(new Date('2025-03-03T10:00:00Z')),
    },
  ],
  [MemberCreatedSchema, { member }],
  [MemberUpdatedSchema, { member: { ...member, position: '高级工程师' } }],
  [MemberDisabledSchema, { member: { ...member, status: 'disabled' } }],
  [MemberEnabledSchema, { member }],
  [
    MemberLeftSchema,
    {
      member: {
        ...member,
        status: 'left',
        leftAt: timestampFromDate(new Date('2025-06-30T18:00:00Z')),
      },
    },
  ],
  [TagCreatedSchema, { tag }],
  [TagUpdatedSchema, { tag: { ...tag, name: '重点客户经理' } }],
  [TagMembersChangedSchema, { tag: { ...tag, userids: ['zhangsan', 'lisi'], departmentIds: [7] } }],
  [
    TagDeletedSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: 3,
      deletedAt: timestampFromDate(new Date('2025-07-01T10:00:00Z')),
    },
  ],
  [AppCreatedSchema, { app }],
  [ConversationCreatedSchema, { conversation }],
  [ConversationSettingsChangedSchema, { conversation: { ...conversation, name: '项目一组' } }],
  [ConversationMembersAddedSchema, { conversation, userids: ['lisi'], by: 'zhangsan' }],
  [
    ConversationMembersRemovedSchema,
    { conversation, userids: ['wangwu'], by: '', reason: 'left_corp' },
  ],
  [
    ConversationDisbandedSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: conversation.id,
      by: 'zhangsan',
      disbandedAt: timestampFromDate(new Date('2025-07-01T10:00:00Z')),
    },
  ],
  [
    ConversationExternalContactsAddedSchema,
    {
      conversation: externalGroup,
      externalUserids: ['wmAbCdEf0123456789abcdefGHIJKLmn'],
      by: 'zhangsan',
    },
  ],
  [
    ConversationExternalContactsRemovedSchema,
    {
      conversation: { ...externalGroup, externalParticipants: [] },
      externalUserids: ['wmAbCdEf0123456789abcdefGHIJKLmn'],
      by: 'zhangsan',
      reason: 'removed',
    },
  ],
  [
    ConversationMembersLeftOutSchema,
    {
      conversation: {
        ...conversation,
        id: '3e8f1a2b-6c4d-4e9f-a0b1-c2d3e4f5a6b7',
        kind: 'department',
        name: '运维部',
        memberLimit: 2,
        departmentId: 7,
        waiting: ['wangwu', 'zhaoliu'],
      },
      userids: ['zhaoliu'],
    },
  ],
  [
    MessageSentSchema,
    {
      message: {
        corpId: 'ww0123456789abcdef',
        conversationId: conversation.id,
        seq: 43n,
        id: '5d0f6a3e-1c2b-4e8f-9a7d-3b6c2e1f0a94',
        sender: 'zhangsan',
        clientMsgId: 'c-20250302-0001',
        conversationKind: 'group',
        participants: ['zhangsan', 'lisi'],
        content: { type: 'text', text: '@lisi 下午三点开会', mentions: ['lisi'], quoteSeq: 41n },
        sentAt: timestampFromDate(new Date('2025-03-02T09:30:00.250Z')),
      },
    },
  ],
  [
    MessageRecalledSchema,
    {
      corpId: 'ww0123456789abcdef',
      conversationId: conversation.id,
      seq: 43n,
      id: '5d0f6a3e-1c2b-4e8f-9a7d-3b6c2e1f0a94',
      sender: 'zhangsan',
      recalledBy: 'zhangsan',
      recalledAt: timestampFromDate(new Date('2025-03-02T09:31:00Z')),
    },
  ],
  [
    AppMessageSentSchema,
    {
      corpId: 'ww0123456789abcdef',
      msgid: '9b3c2a1e-7f4d-4c2b-8e6a-1d2f3a4b5c6d',
      agentid: 1000002,
      content: { type: 'text', text: '您的报销单已审批通过', mentions: [], quoteSeq: 0n },
      recipients: ['zhangsan', 'lisi'],
      sentAt: timestampFromDate(new Date('2025-03-02T10:00:00Z')),
    },
  ],
  [
    AppMessageRecalledSchema,
    {
      corpId: 'ww0123456789abcdef',
      msgid: '9b3c2a1e-7f4d-4c2b-8e6a-1d2f3a4b5c6d',
      agentid: 1000002,
      recipients: ['zhangsan', 'lisi'],
      recalledBy: 'app:1000002',
      sentAt: timestampFromDate(new Date('2025-03-02T10:00:00Z')),
      recalledAt: timestampFromDate(new Date('2025-03-02T10:05:00Z')),
    },
  ],
  [
    MessageReadSchema,
    {
      corpId: 'ww0123456789abcdef',
      conversationId: conversation.id,
      userid: 'lisi',
      seq: 43n,
      readAt: timestampFromDate(new Date('2025-03-02T09:35:00Z')),
    },
  ],
  [AnnouncementPublishedSchema, { announcement, recipients: ['lisi', 'wangwu', 'zhangsan'] }],
  [
    AnnouncementUpdatedSchema,
    {
      announcement: { ...announcement, pinned: false },
      updatedBy: 'zhangsan',
      updatedAt: timestampFromDate(new Date('2025-01-21T08:00:00Z')),
    },
  ],
  [
    AnnouncementWithdrawnSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: announcement.id,
      withdrawnBy: 'zhangsan',
      withdrawnAt: timestampFromDate(new Date('2025-01-22T08:00:00Z')),
    },
  ],
  [
    AnnouncementExpiredSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: announcement.id,
      expiredAt: timestampFromDate(new Date('2025-02-18T00:00:05Z')),
    },
  ],
  [
    AnnouncementReadSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: announcement.id,
      userid: 'lisi',
      readAt: timestampFromDate(new Date('2025-01-20T09:03:12Z')),
      publishedAt: timestampFromDate(new Date('2025-01-20T09:00:00Z')),
    },
  ],
  [
    AnnouncementRemindedSchema,
    {
      corpId: 'ww0123456789abcdef',
      id: announcement.id,
      title: '春节放假通知',
      priority: 'important',
      remindedBy: 'zhangsan',
      userids: ['wangwu'],
      remindedAt: timestampFromDate(new Date('2025-01-20T15:00:00Z')),
    },
  ],
  [
    MessageUrgentRemindedSchema,
    {
      corpId: 'ww0123456789abcdef',
      conversationId: conversation.id,
      conversationKind: 'group',
      conversationName: '项目组',
      seq: 43n,
      messageId: '5d0f6a3e-1c2b-4e8f-9a7d-3b6c2e1f0a94',
      sender: 'zhangsan',
      messageType: 'text',
      preview: '@lisi 下午三点开会',
      sentAt: timestampFromDate(new Date('2025-03-02T09:30:00.250Z')),
      reminderId: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
      remindedBy: 'zhangsan',
      userids: ['lisi'],
      remindedAt: timestampFromDate(new Date('2025-03-02T09:45:00Z')),
    },
  ],
  [AppUpdatedSchema, { app: { ...app, range: { departmentIds: [1], userids: [], tagIds: [] } } }],
  [AppSecretRotatedSchema, { app, rotatedAt: timestampFromDate(new Date('2025-04-01T08:00:00Z')) }],
  [
    AppDeletedSchema,
    {
      corpId: 'ww0123456789abcdef',
      agentid: 1000002,
      deletedAt: timestampFromDate(new Date('2025-07-01T10:00:00Z')),
    },
  ],
  [
    MemberDeletedSchema,
    {
      corpId: 'ww0123456789abcdef',
      userid: 'zhangsan',
      deletedAt: timestampFromDate(new Date('2025-07-01T10:00:00Z')),
    },
  ],
  [AlertRaisedSchema, { alert }],
  [
    AlertAssignedSchema,
    {
      alert: {
        ...alert,
        status: 'assigned',
        assignee: 'wangwu',
        updatedAt: timestampFromDate(new Date('2025-03-02T10:00:00Z')),
      },
      by: 'wangwu',
    },
  ],
  [
    AlertClosedSchema,
    {
      alert: {
        ...alert,
        status: 'closed',
        assignee: 'wangwu',
        note: '已核实：客户询问产品收益，未违规',
        updatedAt: timestampFromDate(new Date('2025-03-02T11:00:00Z')),
      },
      by: 'wangwu',
    },
  ],
]);

const allEvents = () => TOPIC_CATALOG.flatMap((topic) => topic.events);

describe('docs/asyncapi.yaml', () => {
  let text: string;
  let yaml: ParsedYaml;
  let document: AsyncAPIDocumentInterface;

  beforeAll(async () => {
    text = await readFile(DOC_PATH, 'utf8');
    yaml = parse(text) as ParsedYaml;
    const { document: parsed, diagnostics } = await new Parser().parse(text);
    // Errors (0) and warnings (1) fail; information, such as "a newer minor 3.1.0 exists", and
    // hints do not. Number(): the diagnostics carry Spectral's own copy of the enum.
    const problems = diagnostics.filter(
      (d) => Number(d.severity) <= Number(DiagnosticSeverity.Warning),
    );
    if (!parsed || problems.length > 0) {
      throw new Error(
        `docs/asyncapi.yaml is not valid AsyncAPI 3:\n${problems
          .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`)
          .join('\n')}`,
      );
    }
    document = parsed;
  });

  it('is what the generator writes from the current topic catalog', () => {
    const generated = renderAsyncApiYaml(
      buildAsyncApiDocument(TOPIC_CATALOG, { version: workspaceVersion(REPO_ROOT) }),
    );
    if (generated !== text) {
      const committed = text.split('\n');
      const line = generated.split('\n').findIndex((l, i) => l !== committed[i]) + 1;
      throw new Error(
        `docs/asyncapi.yaml is stale (first difference at line ${line}): run \`npm run asyncapi:generate\` and commit it.`,
      );
    }
  });

  it('is AsyncAPI 3 with a channel per topic and per dead-letter topic, and a send operation per topic', () => {
    expect(document.version()).toMatch(/^3\./);
    const addresses = document
      .channels()
      .all()
      .map((channel) => channel.address());
    expect(addresses.sort()).toEqual(
      TOPIC_CATALOG.flatMap((topic) => [topic.name, deadLetterTopicOf(topic.name)]).sort(),
    );
    for (const topic of TOPIC_CATALOG) {
      const channel = document
        .channels()
        .all()
        .find((c) => c.address() === topic.name);
      expect(channel?.bindings().get('kafka')?.value()).toMatchObject({
        partitions: topic.partitions,
        topicConfiguration: { 'retention.ms': topic.retentionMs },
      });
      const sends = document
        .operations()
        .all()
        .filter((op) => op.isSend() && op.channels().all()[0]?.address() === topic.name);
      expect(sends).toHaveLength(1);
      expect(
        sends[0]
          ?.messages()
          .all()
          .map((message) => message.name())
          .sort(),
      ).toEqual(topic.events.map((event) => event.type).sort());
    }
  });

  it('describes every event type with its CloudEvents headers, key and payload schema', () => {
    for (const topic of TOPIC_CATALOG) {
      for (const event of topic.events) {
        const message = document
          .messages()
          .all()
          .find((m) => m.name() === event.type);
        expect(message?.contentType()).toBe('application/json');
        expect(message?.summary()).toBe(event.summary);
        expect(message?.bindings().get('kafka')?.value()).toMatchObject({
          key: { type: 'string', description: topic.key },
        });
        const headers = yaml.components.messages[event.type]?.headers;
        expect(headers).toMatchObject({
          properties: {
            ce_type: { const: event.type },
            ce_dataschema: { const: event.schema.typeName },
            ce_specversion: { const: '1.0' },
            'content-type': { const: 'application/json' },
          },
        });
        expect(headers?.required).toEqual(
          expect.arrayContaining(['ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_tenant']),
        );
        const deadLetter = yaml.components.messages[`${event.type}.dlq`]?.headers;
        expect(deadLetter?.properties?.dlq_original_topic).toMatchObject({ const: topic.name });
        expect(deadLetter?.required).toEqual(
          expect.arrayContaining(['dlq_error', 'dlq_attempts', 'dlq_original_offset']),
        );
      }
    }
  });

  it('describes the shared Department message once, referenced by every department event', () => {
    const refs = ['created', 'updated', 'moved'].map(
      (happened) =>
        yaml.components.schemas[
          `qiwei.identity.v1.Department${happened[0]?.toUpperCase()}${happened.slice(1)}`
        ]?.properties?.department?.$ref,
    );
    expect(refs).toEqual(Array(3).fill('#/components/schemas/qiwei.identity.v1.Department'));
    expect(text.match(/^ {4}qiwei\.identity\.v1\.Department:$/gm)).toHaveLength(1);
  });

  it('accepts the proto3 JSON of a real payload of every event type, and rejects a mangled one', () => {
    expect(new Set(allEvents().map((event) => event.schema))).toEqual(
      new Set(REAL_PAYLOADS.keys()),
    );
    for (const event of allEvents()) {
      const payloadSchema = yaml.components.messages[event.type]?.payload;
      if (!payloadSchema) throw new Error(`no payload schema for ${event.type}`);
      const json = toJson(event.schema, create(event.schema, REAL_PAYLOADS.get(event.schema)), {
        alwaysEmitImplicit: true,
      });
      expect(validateJsonSchema(json, payloadSchema, yaml.components.schemas)).toEqual([]);
    }
    const created = yaml.components.messages['qiwei.identity.department.created.v1']?.payload;
    const json = toJson(
      DepartmentCreatedSchema,
      create(DepartmentCreatedSchema, { department }),
    ) as {
      department: Record<string, unknown>;
    };
    const mangled = {
      department: { ...json.department, createdAt: 'yesterday', path: ['1'] },
    };
    expect(validateJsonSchema(mangled, created ?? {}, yaml.components.schemas)).toEqual([
      '$.department.path[0]: expected integer, got "1"',
      '$.department.createdAt: yesterday is not an RFC 3339 date-time',
    ]);
  });
});
