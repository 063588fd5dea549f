import { MESSAGING_CONVERSATION_TOPIC, MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { bearer, eventually } from '@qiwei/testing';
import type { Test } from 'supertest';
import { DataSource } from 'typeorm';
import {
  bootMessaging,
  eventsOf,
  type MessagingTestApp,
  type TestCorp,
} from './messaging-test-app';

type Participant = { userid: string; role: string };
type Conversation = {
  id: string;
  kind: string;
  owner: string | null;
  memberLimit: number;
  lastSeq: number;
  participants: Participant[];
  externalParticipants: { externalUserid: string; addedBy: string }[];
  departmentId: number | null;
  notice: { version: number; text: string; publishedBy: string } | null;
  welcomeMessage: string;
  tags: string[];
};

const userids = (c: Conversation) => c.participants.map((p) => p.userid).sort();

describe('messaging: external groups, department groups and group settings', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    messaging = await bootMessaging({
      EXTERNAL_GROUP_MEMBER_LIMIT: '5',
      GROUP_MEMBER_LIMIT: '50',
      MESSAGE_TEXT_MAX_BYTES: '256',
    });
    corp = await messaging.createCorp();
    [alice, bob, carol] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
    ]);
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  let counter = 0;
  const text = (t: string) => ({ clientMsgId: `g${++counter}`, type: 'text', text: t });
  const create = async (token: string, body: object) => {
    const response = await as(token).post('/v1/conversations', body);
    if (response.status !== 201) throw new Error(JSON.stringify(response.body));
    return response.body as Conversation;
  };
  const conversation = async (token: string, id: string) =>
    (await as(token).get(`/v1/conversations/${id}`).expect(200)).body as Conversation;
  const expectError = async (request: Test, status: number, code: string) => {
    const response = await request;
    expect([response.status, response.body.code]).toEqual([status, code]);
  };

  describe('external groups', () => {
    it('holds members and external contacts, within the external limit, and says so in its events', async () => {
      const g = await create(alice, {
        kind: 'external',
        name: '华东客户群',
        members: ['bob'],
        externalUserids: ['wmCustomerA', 'wmCustomerB', 'wmCustomerA'],
      });
      expect(g).toMatchObject({ kind: 'external', owner: 'alice', memberLimit: 5 });
      expect(g.externalParticipants.map((e) => e.externalUserid)).toEqual([
        'wmCustomerA',
        'wmCustomerB',
      ]);
      const sent = await as(bob)
        .post(`/v1/conversations/${g.id}/messages`, text('您好'))
        .expect(201);
      const added = await as(bob)
        .post(`/v1/conversations/${g.id}/external-contacts`, { externalUserids: ['wmCustomerC'] })
        .expect(200);
      expect((added.body as Conversation).externalParticipants).toHaveLength(3);
      // alice, bob and three customers: the limit of 5 is reached.
      await expectError(
        as(alice).post(`/v1/conversations/${g.id}/external-contacts`, {
          externalUserids: ['wmCustomerD'],
        }),
        422,
        'GROUP_FULL',
      );
      await expectError(
        as(alice).post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] }),
        422,
        'GROUP_FULL',
      );
      await expectError(
        as(bob).delete(`/v1/conversations/${g.id}/external-contacts/wmCustomerC`),
        403,
        'GROUP_ROLE_REQUIRED',
      );
      await expectError(
        as(alice).delete(`/v1/conversations/${g.id}/external-contacts/wmNobody`),
        422,
        'EXTERNAL_CONTACTS_UNKNOWN',
      );
      await expectError(
        as(alice).delete(`/v1/conversations/${g.id}/external-contacts/not%20valid`),
        400,
        'VALIDATION_FAILED',
      );
      const removed = await as(alice)
        .delete(`/v1/conversations/${g.id}/external-contacts/wmCustomerC`)
        .expect(200);
      expect(
        (removed.body as Conversation).externalParticipants.map((e) => e.externalUserid),
      ).toEqual(['wmCustomerA', 'wmCustomerB']);

      const messages = await eventsOf(messaging.brokers, MESSAGING_MESSAGE_TOPIC.name, g.id, 1);
      expect(messages[0].data.message).toMatchObject({
        seq: String(sent.body.seq),
        conversationKind: 'external',
        participants: ['alice', 'bob'],
        externalParticipants: ['wmCustomerA', 'wmCustomerB'],
      });
      const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 3);
      expect(events.map((e) => e.type)).toEqual([
        'qiwei.messaging.conversation.created.v1',
        'qiwei.messaging.conversation.external_contacts_added.v1',
        'qiwei.messaging.conversation.external_contacts_removed.v1',
      ]);
      expect(events[0].data.conversation).toMatchObject({
        kind: 'external',
        externalParticipants: ['wmCustomerA', 'wmCustomerB'],
      });
      expect(events[1].data).toMatchObject({ externalUserids: ['wmCustomerC'], by: 'bob' });
      expect(events[2].data).toMatchObject({
        externalUserids: ['wmCustomerC'],
        by: 'alice',
        reason: 'removed',
      });
    });

    it('refuses external contacts where they do not belong, and malformed ones', async () => {
      const internal = await create(alice, { kind: 'group', name: '内部群', members: ['bob'] });
      await expectError(
        as(alice).post(`/v1/conversations/${internal.id}/external-contacts`, {
          externalUserids: ['wmCustomerA'],
        }),
        422,
        'GROUP_KIND_NOT_ALLOWED',
      );
      const cases: [object, number, string][] = [
        [{ kind: 'external', name: 'x', externalUserids: ['bad id'] }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'external', name: 'x', externalUserids: 'wm1' }, 400, 'VALIDATION_FAILED'],
        [
          { kind: 'group', name: 'x', members: ['bob'], externalUserids: ['wm1'] },
          400,
          'VALIDATION_FAILED',
        ],
        [{ kind: 'external', name: 'x', departmentId: 1 }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'external', name: 'x', peer: 'bob' }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'external', members: ['bob'] }, 400, 'VALIDATION_FAILED'],
        [
          { kind: 'external', name: 'x', externalUserids: ['a', 'b', 'c', 'd', 'e'] },
          422,
          'GROUP_FULL',
        ],
        [{ kind: 'external', name: 'x', members: ['ghost'] }, 422, 'MEMBERS_UNKNOWN'],
      ];
      for (const [body, status, code] of cases) {
        const response = await as(alice).post('/v1/conversations', body);
        expect([response.status, response.body.code, body]).toEqual([status, code, body]);
      }
      const g = await create(alice, { kind: 'external', name: '客户群' });
      await expectError(
        as(alice).post(`/v1/conversations/${g.id}/external-contacts`, { externalUserids: [] }),
        400,
        'VALIDATION_FAILED',
      );
      await expectError(
        as(alice).post(`/v1/conversations/${g.id}/robots`, { name: '机器人' }),
        422,
        'GROUP_KIND_NOT_ALLOWED',
      );
      expect((await conversation(alice, g.id)).externalParticipants).toEqual([]);
    });
  });

  describe('group settings', () => {
    it('versions the group notice: owner and admins publish, everyone reads the history', async () => {
      const g = await create(alice, { kind: 'group', name: '公告群', members: ['bob', 'carol'] });
      await as(alice)
        .patch(`/v1/conversations/${g.id}`, { admins: ['bob'] })
        .expect(200);
      await expectError(
        as(carol).put(`/v1/conversations/${g.id}/notice`, { text: '我来发' }),
        403,
        'GROUP_ROLE_REQUIRED',
      );
      const v1 = await as(alice)
        .put(`/v1/conversations/${g.id}/notice`, { text: '周五下午三点例会' })
        .expect(200);
      expect(v1.body).toMatchObject({ version: 1, text: '周五下午三点例会', publishedBy: 'alice' });
      const v2 = await as(bob)
        .put(`/v1/conversations/${g.id}/notice`, { text: '例会改到周四' })
        .expect(200);
      expect(v2.body).toMatchObject({ version: 2, publishedBy: 'bob' });
      expect((await conversation(carol, g.id)).notice).toMatchObject({
        version: 2,
        text: '例会改到周四',
        publishedBy: 'bob',
      });
      const first = await as(carol).get(`/v1/conversations/${g.id}/notices?limit=1`).expect(200);
      expect(first.body.items.map((n: { version: number }) => n.version)).toEqual([2]);
      const rest = await as(carol)
        .get(`/v1/conversations/${g.id}/notices?limit=1&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(rest.body).toMatchObject({
        items: [{ version: 1, text: '周五下午三点例会', publishedBy: 'alice' }],
        nextCursor: null,
      });
      const cleared = await as(alice).delete(`/v1/conversations/${g.id}/notice`).expect(200);
      expect(cleared.body).toMatchObject({ version: 3, text: '' });
      expect((await conversation(alice, g.id)).notice).toMatchObject({ version: 3, text: '' });

      await expectError(
        as(alice).put(`/v1/conversations/${g.id}/notice`, { text: '   ' }),
        400,
        'VALIDATION_FAILED',
      );
      await expectError(
        as(alice).put(`/v1/conversations/${g.id}/notice`, { text: '长'.repeat(100) }),
        413,
        'MESSAGE_TOO_LARGE',
      );
      await expectError(
        as(alice).get(`/v1/conversations/${g.id}/notices?cursor=bogus`),
        400,
        'INVALID_CURSOR',
      );
      const single = (await as(alice).post('/v1/conversations', { kind: 'single', peer: 'carol' }))
        .body as Conversation;
      await expectError(
        as(alice).put(`/v1/conversations/${single.id}/notice`, { text: '1:1 没有公告' }),
        422,
        'NOT_A_GROUP',
      );
      const dave = await corp.member('dave');
      await expectError(
        as(dave).get(`/v1/conversations/${g.id}/notices`),
        404,
        'CONVERSATION_NOT_FOUND',
      );
      expect((await conversation(alice, g.id)).notice?.version).toBe(3);

      const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 5);
      const notices = events
        .filter((e) => e.type === 'qiwei.messaging.conversation.settings_changed.v1')
        .map((e) => (e.data.conversation as { notice?: { version: number; text: string } }).notice);
      expect(notices.slice(1)).toEqual([
        expect.objectContaining({ version: 1, text: '周五下午三点例会', publishedBy: 'alice' }),
        expect.objectContaining({ version: 2, text: '例会改到周四', publishedBy: 'bob' }),
        expect.objectContaining({ version: 3, text: '' }),
      ]);
    });

    it('welcomes new members with a message from the owner that mentions them', async () => {
      const g = await create(alice, { kind: 'group', name: '新人群', members: ['bob'] });
      await expectError(
        as(alice).patch(`/v1/conversations/${g.id}`, { welcomeMessage: '欢'.repeat(90) }),
        413,
        'MESSAGE_TOO_LARGE',
      );
      const set = await as(alice)
        .patch(`/v1/conversations/${g.id}`, { welcomeMessage: '欢迎加入，请先阅读群公告' })
        .expect(200);
      expect(set.body.welcomeMessage).toBe('欢迎加入，请先阅读群公告');
      const joined = await as(bob)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] })
        .expect(200);
      expect(joined.body.lastSeq).toBe(1);
      const page = await as(carol).get(`/v1/conversations/${g.id}/messages`).expect(200);
      expect(page.body.items).toEqual([
        expect.objectContaining({
          seq: 1,
          sender: 'alice',
          type: 'text',
          text: '欢迎加入，请先阅读群公告',
          mentions: ['carol'],
        }),
      ]);
      // Adding someone already in the group adds nobody and greets nobody.
      await as(alice)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] })
        .expect(200);
      await as(alice).patch(`/v1/conversations/${g.id}`, { welcomeMessage: '' }).expect(200);
      await corp.member('erin');
      await as(alice)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['erin'] })
        .expect(200);
      expect((await conversation(alice, g.id)).lastSeq).toBe(1);
      const sent = await eventsOf(messaging.brokers, MESSAGING_MESSAGE_TOPIC.name, g.id, 1);
      expect(sent[0].data.message).toMatchObject({
        sender: 'alice',
        content: { type: 'text', text: '欢迎加入，请先阅读群公告', mentions: ['carol'] },
      });
    });

    it('lets the owner set the member limit within the configured one, and admins set tags', async () => {
      const g = await create(alice, { kind: 'group', name: '限员群', members: ['bob'] });
      await as(alice)
        .patch(`/v1/conversations/${g.id}`, { admins: ['bob'] })
        .expect(200);
      await expectError(
        as(bob).patch(`/v1/conversations/${g.id}`, { memberLimit: 3 }),
        403,
        'GROUP_ROLE_REQUIRED',
      );
      await expectError(
        as(alice).patch(`/v1/conversations/${g.id}`, { memberLimit: 51 }),
        422,
        'MEMBER_LIMIT_INVALID',
      );
      const set = await as(alice)
        .patch(`/v1/conversations/${g.id}`, { memberLimit: 2 })
        .expect(200);
      expect(set.body.memberLimit).toBe(2);
      await expectError(
        as(alice).post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] }),
        422,
        'GROUP_FULL',
      );
      await as(alice).patch(`/v1/conversations/${g.id}`, { memberLimit: 3 }).expect(200);
      await as(alice)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] })
        .expect(200);
      await expectError(
        as(alice).patch(`/v1/conversations/${g.id}`, { memberLimit: 2 }),
        422,
        'MEMBER_LIMIT_INVALID',
      );

      const tagged = await as(bob)
        .patch(`/v1/conversations/${g.id}`, { tags: ['项目', ' 2025 ', '项目'] })
        .expect(200);
      expect(tagged.body.tags).toEqual(['项目', '2025']);
      await expectError(
        as(carol).patch(`/v1/conversations/${g.id}`, { tags: ['我的'] }),
        403,
        'GROUP_ROLE_REQUIRED',
      );
      const other = await create(alice, { kind: 'external', name: '客户', members: ['carol'] });
      const byTag = await as(carol).get(`/v1/conversations?tag=${encodeURIComponent('项目')}`);
      expect(byTag.body.items.map((c: Conversation) => c.id)).toEqual([g.id]);
      const byKind = await as(carol).get('/v1/conversations?kind=external');
      expect(byKind.body.items.map((c: Conversation) => c.id)).toEqual([other.id]);
      const bad: object[] = [
        { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
        { tags: ['x'.repeat(33)] },
        { tags: ['  '] },
        { tags: [1] },
        { memberLimit: 1 },
        { memberLimit: 2.5 },
        { welcomeMessage: 42 },
      ];
      for (const body of bad) {
        const response = await as(alice).patch(`/v1/conversations/${g.id}`, body);
        expect([response.status, response.body.code, body]).toEqual([
          400,
          'VALIDATION_FAILED',
          body,
        ]);
      }
      await expectError(as(carol).get('/v1/conversations?kind=channel'), 400, 'VALIDATION_FAILED');
      expect(await conversation(alice, g.id)).toMatchObject({
        memberLimit: 3,
        tags: ['项目', '2025'],
      });
      const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 6);
      expect(events[events.length - 1]).toMatchObject({
        type: 'qiwei.messaging.conversation.settings_changed.v1',
        data: { conversation: { memberLimit: 3, tags: ['项目', '2025'] } },
      });
    });

    it('keeps another corp out of every new endpoint', async () => {
      const g = await create(alice, {
        kind: 'external',
        name: '外部群',
        members: ['bob'],
        externalUserids: ['wmX'],
      });
      const other = await messaging.createCorp();
      const stranger = await other.member('alice');
      const requests = [
        as(stranger).put(`/v1/conversations/${g.id}/notice`, { text: '越权' }),
        as(stranger).delete(`/v1/conversations/${g.id}/notice`),
        as(stranger).get(`/v1/conversations/${g.id}/notices`),
        as(stranger).post(`/v1/conversations/${g.id}/external-contacts`, {
          externalUserids: ['wmY'],
        }),
        as(stranger).delete(`/v1/conversations/${g.id}/external-contacts/wmX`),
        as(stranger).patch(`/v1/conversations/${g.id}`, { tags: ['越权'] }),
      ];
      for (const request of requests) await expectError(request, 404, 'CONVERSATION_NOT_FOUND');
      for (const request of [
        messaging.http().put(`/v1/conversations/${g.id}/notice`).send({ text: 'x' }),
        messaging.http().get(`/v1/conversations/${g.id}/notices`),
        messaging.http().post(`/v1/conversations/${g.id}/external-contacts`).send({}),
      ])
        expect((await request).status).toBe(401);
      expect(await conversation(alice, g.id)).toMatchObject({
        notice: null,
        tags: [],
        externalParticipants: [expect.objectContaining({ externalUserid: 'wmX' })],
      });
    });
  });

  describe('department groups', () => {
    const departmentKnown = (id: number, known = true) =>
      eventually(
        async () => {
          const rows = await messaging.app
            .get(DataSource)
            .query('SELECT 1 FROM directory_departments WHERE corp_id = $1 AND id = $2', [
              corp.corpId,
              id,
            ]);
          if (rows.length > 0 !== known) throw new Error(`department ${id} not projected yet`);
        },
        { timeoutMs: 30_000 },
      );
    const department = async (name: string, parentId: number) => {
      const created = await corp.identity('POST', '/v1/departments', { name, parentId });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
      const id = (created.body as { id: number }).id;
      await departmentKnown(id);
      return id;
    };
    const membersOf = (token: string, id: string, expected: string[]) =>
      eventually(
        async () => {
          const c = await conversation(token, id);
          expect(userids(c)).toEqual(expected);
          return c;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );

    it('follows the department subtree through identity’s member and department events', async () => {
      const sales = await department('销售部', 1);
      const east = await department('华东区', sales);
      const sam = await corp.member('sam', sales, { leader: true });
      const erin = await corp.member('erinx', east);
      const dora = await corp.member('dora', 1, { adminOf: [sales] });
      await eventually(
        async () => {
          const [row] = await messaging.app
            .get(DataSource)
            .query<{ admin_department_ids: number[] }[]>(
              'SELECT admin_department_ids FROM directory_members WHERE corp_id = $1 AND userid = $2',
              [corp.corpId, 'dora'],
            );
          expect(row?.admin_department_ids).toEqual([sales]);
        },
        { timeoutMs: 30_000 },
      );

      // Who may create one.
      await expectError(
        as(bob).post('/v1/conversations', {
          kind: 'department',
          name: '销售部',
          departmentId: sales,
        }),
        403,
        'DEPARTMENT_GROUP_NOT_ALLOWED',
      );
      await expectError(
        as(erin).post('/v1/conversations', {
          kind: 'department',
          name: '销售部',
          departmentId: sales,
        }),
        403,
        'DEPARTMENT_GROUP_NOT_ALLOWED',
      );
      await expectError(
        as(corp.adminToken).post('/v1/conversations', {
          kind: 'department',
          name: '销售部',
          departmentId: sales,
        }),
        422,
        'OWNER_NOT_IN_DEPARTMENT',
      );
      await expectError(
        as(corp.adminToken).post('/v1/conversations', {
          kind: 'department',
          name: '不存在',
          departmentId: 999_999,
        }),
        422,
        'DEPARTMENT_UNKNOWN',
      );
      const g = await create(dora, {
        kind: 'department',
        name: '销售部',
        departmentId: sales,
        owner: 'sam',
      });
      expect(g).toMatchObject({ kind: 'department', departmentId: sales, owner: 'sam' });
      expect(userids(g)).toEqual(['erinx', 'sam']);
      await expectError(as(dora).get(`/v1/conversations/${g.id}`), 404, 'CONVERSATION_NOT_FOUND');
      await expectError(
        as(corp.adminToken).post('/v1/conversations', {
          kind: 'department',
          name: '又一个',
          departmentId: sales,
          owner: 'sam',
        }),
        409,
        'DEPARTMENT_GROUP_EXISTS',
      );
      const eastGroup = await create(sam, {
        kind: 'department',
        name: '华东区',
        departmentId: east,
        owner: 'erinx',
      });
      expect(userids(eastGroup)).toEqual(['erinx']);

      // Nobody joins or leaves by hand.
      await expectError(
        as(sam).post(`/v1/conversations/${g.id}/members`, { userids: ['alice'] }),
        422,
        'DEPARTMENT_GROUP_MANAGED',
      );
      await expectError(
        as(erin).delete(`/v1/conversations/${g.id}/members/erinx`),
        422,
        'DEPARTMENT_GROUP_MANAGED',
      );
      await expectError(
        as(sam).patch(`/v1/conversations/${g.id}`, { memberLimit: 10 }),
        422,
        'DEPARTMENT_GROUP_MANAGED',
      );
      await as(sam)
        .patch(`/v1/conversations/${g.id}`, { welcomeMessage: '欢迎来到销售部' })
        .expect(200);
      await as(erin).post(`/v1/conversations/${g.id}/messages`, text('本月目标')).expect(201);
      // A robot may join a department group.
      await as(sam).post(`/v1/conversations/${g.id}/robots`, { name: '日报' }).expect(201);

      // A new member of the subtree joins, and is welcomed.
      const fay = await corp.member('fay', east);
      await membersOf(sam, g.id, ['erinx', 'fay', 'sam']);
      await membersOf(fay, eastGroup.id, ['erinx', 'fay']);
      const page = await as(sam).get(`/v1/conversations/${g.id}/messages?afterSeq=1`).expect(200);
      expect(page.body.items).toEqual([
        expect.objectContaining({ sender: 'sam', text: '欢迎来到销售部', mentions: ['fay'] }),
      ]);

      // A member moves out of the subtree.
      const moved = await corp.identity('PATCH', '/v1/members/erinx', { departments: [{ id: 1 }] });
      expect(moved.status).toBe(200);
      await membersOf(sam, g.id, ['fay', 'sam']);
      await membersOf(fay, eastGroup.id, ['fay']);
      expect((await conversation(fay, eastGroup.id)).owner).toBe('fay');
      await expectError(
        as(erin).post(`/v1/conversations/${g.id}/messages`, text('还在吗')),
        404,
        'CONVERSATION_NOT_FOUND',
      );

      // The department moves out from under sales, then back.
      const out = await corp.identity('PATCH', `/v1/departments/${east}`, { parentId: 1 });
      expect(out.status).toBe(200);
      await membersOf(sam, g.id, ['sam']);
      expect(userids(await conversation(fay, eastGroup.id))).toEqual(['fay']);
      const back = await corp.identity('PATCH', `/v1/departments/${east}`, { parentId: sales });
      expect(back.status).toBe(200);
      await membersOf(sam, g.id, ['fay', 'sam']);

      // Disabled members leave; enabled ones come back.
      expect((await corp.identity('POST', '/v1/members/fay/disable')).status).toBe(200);
      await membersOf(sam, g.id, ['sam']);
      expect((await corp.identity('POST', '/v1/members/fay/enable')).status).toBe(200);
      await membersOf(sam, g.id, ['fay', 'sam']);

      const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 8);
      const membership = events
        .filter((e) => e.type.includes('.members_'))
        .map((e) => [e.type.split('.')[3], e.data.userids, e.data.by ?? '', e.data.reason ?? '']);
      expect(membership).toEqual([
        ['members_added', ['fay'], '', ''],
        ['members_removed', ['erinx'], '', 'left_department'],
        ['members_removed', ['fay'], '', 'left_department'],
        ['members_added', ['fay'], '', ''],
        ['members_removed', ['fay'], '', 'disabled'],
        ['members_added', ['fay'], '', ''],
      ]);
      expect(events[0].data.conversation).toMatchObject({
        kind: 'department',
        departmentId: sales,
      });
    });

    it('disbands a department group emptied by its department, and the owner may disband it', async () => {
      const temp = await department('临时项目组', 1);
      const tim = await corp.member('tim', temp, { leader: true });
      const g = await create(tim, { kind: 'department', name: '临时', departmentId: temp });
      await expectError(
        as(tim).post('/v1/conversations', { kind: 'department', name: '再来', departmentId: temp }),
        409,
        'DEPARTMENT_GROUP_EXISTS',
      );
      expect(
        (await corp.identity('PATCH', '/v1/members/tim', { departments: [{ id: 1 }] })).status,
      ).toBe(200);
      const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 2);
      expect(events.map((e) => e.type.split('.')[3])).toEqual(['created', 'disbanded']);
      await expectError(as(tim).get(`/v1/conversations/${g.id}`), 404, 'CONVERSATION_NOT_FOUND');
      expect((await corp.identity('DELETE', `/v1/departments/${temp}`)).status).toBe(204);
      await departmentKnown(temp, false);
      await expectError(
        as(corp.adminToken).post('/v1/conversations', {
          kind: 'department',
          name: '临时',
          departmentId: temp,
          owner: 'tim',
        }),
        422,
        'DEPARTMENT_UNKNOWN',
      );
      const root = await create(corp.adminToken, {
        kind: 'department',
        name: '全员群',
        departmentId: 1,
        owner: 'alice',
      });
      // Every active member of the corp, the corp's first super admin included.
      expect(userids(root)).toEqual([
        'admin',
        'alice',
        'bob',
        'carol',
        'dave',
        'dora',
        'erin',
        'erinx',
        'fay',
        'sam',
        'tim',
      ]);
      await as(alice).delete(`/v1/conversations/${root.id}`).expect(204);
      const again = await create(corp.adminToken, {
        kind: 'department',
        name: '全员群',
        departmentId: 1,
        owner: 'bob',
      });
      expect(again.id).not.toBe(root.id);
      const malformed: object[] = [
        { kind: 'department', name: 'x' },
        { kind: 'department', name: 'x', departmentId: 0 },
        { kind: 'department', name: 'x', departmentId: '1' },
        { kind: 'department', name: 'x', departmentId: 1, members: ['bob'] },
        { kind: 'department', name: 'x', departmentId: 1, owner: 'bad owner' },
        { kind: 'group', name: 'x', members: ['bob'], owner: 'bob' },
      ];
      for (const body of malformed) {
        const response = await as(corp.adminToken).post('/v1/conversations', body);
        expect([response.status, response.body.code, body]).toEqual([
          400,
          'VALIDATION_FAILED',
          body,
        ]);
      }
      const other = await messaging.createCorp();
      await expectError(
        as(other.adminToken).post('/v1/conversations', {
          kind: 'department',
          name: '别家的',
          departmentId: temp,
        }),
        422,
        'DEPARTMENT_UNKNOWN',
      );
    });
  });
});
