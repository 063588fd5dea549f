import { randomUUID } from 'node:crypto';
import { COMPLIANCE_ALERT_TOPIC, MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { bearer, eventually } from '@qiwei/testing';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import { sentEvent } from './support/events';

describe('compliance: search, access control, alerts', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let officer: string;
  let officer2: string;
  let member: string;
  let otherOfficer: string;
  let serviceOfficer: string;
  let financeOfficer: string;
  let finance: number;
  let customerService: number;
  let privateBanking: number;
  const group = randomUUID();
  const single = randomUUID();
  const day = (d: number, h = 9) => new Date(Date.UTC(2025, 2, d, h));
  const corpus: [string, string, string[], Date, string][] = [
    ['这款理财产品收益很高', 'alice', ['alice', 'bob'], day(1), group],
    [
      'Please call me at 13800138000 about the iPhone15 order ORD-2024-0001',
      'bob',
      ['alice', 'bob'],
      day(2),
      group,
    ],
    [
      '理财 and wealth management 方案 for VIP clients',
      'alice',
      ['alice', 'carol'],
      day(3),
      single,
    ],
    ['今天开会讨论理财方案和保险产品', 'carol', ['alice', 'carol'], day(4), single],
    ['财产保险的理赔流程', 'bob', ['alice', 'bob'], day(5), group],
    ['产品理财收益', 'alice', ['alice', 'bob'], day(6), group],
    ['Guaranteed returns, no risk at all', 'bob', ['alice', 'bob'], day(7), group],
  ];

  beforeAll(async () => {
    compliance = await bootCompliance();
    [corp, other] = await Promise.all([compliance.createCorp(), compliance.createCorp()]);
    [finance, customerService] = await Promise.all([
      corp.department('理财部'),
      corp.department('客服部'),
    ]);
    privateBanking = await corp.department('私人银行', finance);
    // Senders' departments are taken when their messages are archived: members first.
    [officer, officer2, member, otherOfficer, serviceOfficer, financeOfficer] = await Promise.all([
      corp.member('officer', ['compliance_officer']),
      corp.member('officer2', ['compliance_officer']),
      corp.member('alice', [], { departments: [finance] }),
      other.member('officer', ['compliance_officer']),
      corp.member('service-officer', ['compliance_officer', 'department_admin'], {
        scopes: [customerService],
      }),
      corp.member('finance-officer', ['compliance_officer', 'department_admin'], {
        scopes: [finance],
      }),
      corp.member('bob', [], { departments: [customerService] }),
      corp.member('carol', [], { departments: [privateBanking] }),
    ]);
    await compliance.publish(
      MESSAGING_MESSAGE_TOPIC,
      corpus.map(([text, sender, participants, at, conversation], i) =>
        sentEvent(corp.corpId, conversation, i + 1, text, { sender, participants, at }),
      ),
    );
    await compliance.archived(corp.corpId, corpus.length);
  }, 180_000);
  afterAll(() => compliance?.close());

  const as = (token: string) => bearer(compliance, token);
  const texts = async (body: object, token = officer) => {
    const res = await as(token).post('/v1/archive/search', body);
    expect(res.status).toBe(200);
    return (res.body.items as { text: string }[]).map((i) => i.text);
  };
  const accessCount = async () => {
    const [row] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM access_log WHERE corp_id = $1', [
        corp.corpId,
      ]);
    return Number(row.n);
  };

  describe('search over HTTP (the query shapes: archive-index.conformance.e2e-spec.ts)', () => {
    it('finds Chinese inside unspaced text with highlights, by time, every page once', async () => {
      const res = await as(officer)
        .post('/v1/archive/search', { keywords: { all: ['理财'] } })
        .expect(200);
      expect(res.body.items.map((i: { text: string }) => i.text)).toEqual([
        '产品理财收益',
        '今天开会讨论理财方案和保险产品',
        '理财 and wealth management 方案 for VIP clients',
        '这款理财产品收益很高',
      ]);
      expect(res.body.items[3]).toMatchObject({
        highlight: '这款<em>理财</em>产品收益很高',
        score: null,
        sender: 'alice',
        conversationId: group,
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await as(officer)
          .post('/v1/archive/search', { limit: 3, ...(cursor ? { cursor } : {}) })
          .expect(200);
        seen.push(...(page.body.items as { text: string }[]).map((i) => i.text));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(corpus.map(([text]) => text).reverse());
    });

    it('sorts by relevance with scores and highlights every hit', async () => {
      const res = await as(officer)
        .post('/v1/archive/search', {
          keywords: { any: ['理财', '收益'] },
          sort: 'relevance',
          limit: 2,
        })
        .expect(200);
      const first = res.body.items[0];
      expect(first.score).toBeGreaterThan(0);
      expect(res.body.items[0].score).toBeGreaterThanOrEqual(res.body.items[1].score);
      expect(['这款理财产品收益很高', '产品理财收益']).toContain(first.text);
      expect(first.highlight).toMatch(/<em>理财<\/em>.*<em>收益<\/em>/);
    });

    it('filters by the sender’s department subtree (departments as at archive time)', async () => {
      expect(await texts({ senderDepartments: [finance] })).toEqual([
        '产品理财收益',
        '今天开会讨论理财方案和保险产品',
        '理财 and wealth management 方案 for VIP clients',
        '这款理财产品收益很高',
      ]);
      expect(await texts({ senderDepartments: [privateBanking] })).toEqual([
        '今天开会讨论理财方案和保险产品',
      ]);
      expect(await texts({ hasAttachment: true })).toEqual([]);
    });
  });

  describe('officers’ department coverage', () => {
    const service = ['Guaranteed returns, no risk at all', '财产保险的理赔流程', corpus[1][0]];

    it('shows an officer scoped to 客服部 only what its people wrote', async () => {
      expect(await texts({}, serviceOfficer)).toEqual(service);
      expect(await texts({ keywords: { all: ['理财'] } }, serviceOfficer)).toEqual([]);
      // A filter outside the coverage narrows; it never widens.
      expect(await texts({ senderDepartments: [finance] }, serviceOfficer)).toEqual([]);
      expect(await texts({ senders: ['alice'] }, serviceOfficer)).toEqual([]);
    });

    it('covers a scope’s whole subtree (私人银行 is under 理财部)', async () => {
      expect(await texts({}, financeOfficer)).toEqual([
        '产品理财收益',
        '今天开会讨论理财方案和保险产品',
        '理财 and wealth management 方案 for VIP clients',
        '这款理财产品收益很高',
      ]);
      expect(await texts({ keywords: { any: ['理赔', 'guaranteed'] } }, financeOfficer)).toEqual(
        [],
      );
    });

    it('applies coverage to the conversation view, and hides conversations none of theirs wrote in', async () => {
      const view = await as(serviceOfficer).get(`/v1/archive/conversations/${group}`).expect(200);
      expect(view.body.records.map((r: { sender: string }) => r.sender)).toEqual([
        'bob',
        'bob',
        'bob',
      ]);
      const hidden = await as(serviceOfficer).get(`/v1/archive/conversations/${single}`);
      expect([hidden.status, hidden.body.code]).toEqual([404, 'ARCHIVED_CONVERSATION_NOT_FOUND']);
      const whole = await as(officer).get(`/v1/archive/conversations/${single}`).expect(200);
      expect(whole.body.records).toHaveLength(2);
    });

    it('records the coverage a search ran with', async () => {
      await texts({ keywords: { all: ['保险'] } }, serviceOfficer);
      const log = await as(corp.adminToken)
        .get('/v1/archive/access-log?actor=service-officer&limit=1')
        .expect(200);
      expect(log.body.items[0]).toMatchObject({
        action: 'archive.search',
        query: { keywords: { all: ['保险'] }, coverage: [customerService] },
        resultCount: 1,
      });
    });
  });

  describe('access', () => {
    it('shows an officer only their own corp', async () => {
      expect(await texts({}, otherOfficer)).toEqual([]);
      const res = await as(otherOfficer).get(`/v1/archive/conversations/${group}`);
      expect([res.status, res.body.code]).toEqual([404, 'ARCHIVED_CONVERSATION_NOT_FOUND']);
      const mine = await as(officer)
        .get(`/v1/archive/conversations/${group}?around=${day(2).toISOString()}&limit=2`)
        .expect(200);
      expect(mine.body.records.map((r: { text: string }) => r.text)).toEqual([
        corpus[0][0],
        corpus[1][0],
      ]);
    });

    it('refuses members, anonymous callers and forged tokens', async () => {
      for (const [method, path] of [
        ['post', '/v1/archive/search'],
        ['get', '/v1/archive/verify'],
        ['get', `/v1/archive/conversations/${group}`],
        ['get', '/v1/archive/alerts'],
        ['get', '/v1/archive/access-log'],
      ] as const) {
        const res = await (method === 'post' ? as(member).post(path, {}) : as(member).get(path));
        expect([path, res.status, res.body.code]).toEqual([path, 403, 'ROLE_REQUIRED']);
        expect((await compliance.http()[method](path)).status).toBe(401);
        expect((await as('not.a.jwt')[method](path, {})).status).toBe(401);
      }
    });

    it('records every search in a hash-chained access log that super admins read', async () => {
      const before = await accessCount();
      await texts({ keywords: { all: ['保险'] }, senders: ['bob'] });
      expect(await accessCount()).toBe(before + 1);
      const log = await as(corp.adminToken).get('/v1/archive/access-log?limit=1').expect(200);
      expect(log.body.items[0]).toMatchObject({
        actor: 'officer',
        action: 'archive.search',
        query: { keywords: { all: ['保险'] }, senders: ['bob'] },
        resultCount: 1,
      });
      expect(log.body.nextCursor).not.toBeNull();
      const refused = await as(officer).get('/v1/archive/access-log');
      expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
      const report = await as(officer).get('/v1/archive/verify').expect(200);
      expect(report.body.accessLog).toMatchObject({ ok: true, firstBroken: null });
      expect(report.body.accessLog.records).toBeGreaterThan(before);
    });
  });

  describe('keyword alerts (敏感词)', () => {
    it('raises an alert on ingest, publishes it, and lets officers assign and close it', async () => {
      const keyword = await as(officer)
        .post('/v1/archive/alert-rules', {
          name: '保本承诺',
          kind: 'keyword',
          keywords: ['保本', '稳赚'],
        })
        .expect(201);
      const regex = await as(officer)
        .post('/v1/archive/alert-rules', {
          name: '私下联系',
          kind: 'regex',
          pattern: '(私下|线下)(交易|转账)|1[3-9]\\d{9}',
          conversationKinds: ['single'],
        })
        .expect(201);
      const conversation = randomUUID();
      await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
        sentEvent(corp.corpId, conversation, 1, '这个产品稳赚不赔，保本保息', { sender: 'bob' }),
        sentEvent(corp.corpId, conversation, 2, '我们私下转账吧 13900001111', { sender: 'bob' }),
      ]);
      const listed = await eventually(async () => {
        const res = await as(officer)
          .get(`/v1/archive/alerts?ruleId=${keyword.body.id}`)
          .expect(200);
        if (!res.body.items.length) throw new Error('no alert yet');
        return res.body.items as Record<string, unknown>[];
      });
      expect(listed).toEqual([
        expect.objectContaining({
          ruleName: '保本承诺',
          matchedText: '稳赚',
          sender: 'bob',
          conversationId: conversation,
          status: 'open',
        }),
      ]);
      // The regex rule covers 1:1 chats only: this group message raised nothing for it.
      const regexHits = await as(officer)
        .get(`/v1/archive/alerts?ruleId=${regex.body.id}`)
        .expect(200);
      expect(regexHits.body.items).toEqual([]);
      await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
        sentEvent(corp.corpId, randomUUID(), 1, '加我 13900001111 线下交易', { kind: 'single' }),
      ]);
      const regexHit = await eventually(async () => {
        const res = await as(officer).get(`/v1/archive/alerts?ruleId=${regex.body.id}`).expect(200);
        if (!res.body.items.length) throw new Error('no regex alert yet');
        return res.body.items[0] as Record<string, unknown>;
      });
      expect(regexHit).toMatchObject({
        ruleKind: 'regex',
        matchedText: '13900001111',
        conversationKind: 'single',
      });
      const disabled = await as(officer)
        .patch(`/v1/archive/alert-rules/${regex.body.id}`, { enabled: false })
        .expect(200);
      expect(disabled.body).toMatchObject({ enabled: false, pattern: regex.body.pattern });

      const id = listed[0].id as string;
      const assigned = await as(officer)
        .post(`/v1/archive/alerts/${id}/assign`, { assignee: 'officer2' })
        .expect(200);
      expect(assigned.body).toMatchObject({ status: 'assigned', assignee: 'officer2' });
      const notOfficer = await as(officer).post(`/v1/archive/alerts/${id}/assign`, {
        assignee: 'alice',
      });
      expect([notOfficer.status, notOfficer.body.code]).toEqual([422, 'ASSIGNEE_NOT_OFFICER']);
      const closed = await as(officer2)
        .post(`/v1/archive/alerts/${id}/close`, { note: '已核实：客户误解，已提醒' })
        .expect(200);
      expect(closed.body).toMatchObject({
        status: 'closed',
        closedBy: 'officer2',
        note: '已核实：客户误解，已提醒',
      });
      const again = await as(officer2).post(`/v1/archive/alerts/${id}/close`, { note: 'again' });
      expect([again.status, again.body.code]).toEqual([409, 'ALERT_ALREADY_CLOSED']);
      const open = await as(officer).get('/v1/archive/alerts?status=open').expect(200);
      expect(open.body.items.map((a: { id: string }) => a.id)).not.toContain(id);

      // Downstream sees the alert's life on qiwei.compliance.alert.v1.
      const types: string[] = [];
      const consumer = createKafka({
        brokers: compliance.brokers,
        clientId: 'alert-reader',
      }).consumer({
        groupId: `alert-reader-${randomUUID()}`,
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: COMPLIANCE_ALERT_TOPIC.name, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            if (String(message.value).includes(id)) types.push(String(message.headers?.ce_type));
          },
        });
        await eventually(() => {
          if (types.length < 3) throw new Error(`${types.length} of 3 alert events`);
        });
      } finally {
        await consumer.disconnect();
      }
      expect(types).toEqual([
        'qiwei.compliance.alert.raised.v1',
        'qiwei.compliance.alert.assigned.v1',
        'qiwei.compliance.alert.closed.v1',
      ]);
    });

    it('shows each officer only the alerts on what their people wrote', async () => {
      const all = (await as(officer).get('/v1/archive/alerts?limit=100').expect(200)).body
        .items as { id: string; sender: string }[];
      expect(new Set(all.map((a) => a.sender))).toEqual(new Set(['alice', 'bob']));
      const senders = async (token: string) =>
        (
          (await as(token).get('/v1/archive/alerts?limit=100').expect(200)).body.items as {
            sender: string;
          }[]
        ).map((a) => a.sender);
      expect(new Set(await senders(serviceOfficer))).toEqual(new Set(['bob']));
      expect(new Set(await senders(financeOfficer))).toEqual(new Set(['alice']));
      const bobs = all.find((a) => a.sender === 'bob') as { id: string };
      for (const [method, path, body] of [
        ['get', `/v1/archive/alerts/${bobs.id}`, undefined],
        ['post', `/v1/archive/alerts/${bobs.id}/close`, { note: '越权' }],
        ['post', `/v1/archive/alerts/${bobs.id}/assign`, { assignee: 'officer2' }],
      ] as const) {
        const res =
          method === 'get'
            ? await as(financeOfficer).get(path)
            : await as(financeOfficer).post(path, body);
        expect([path, res.status, res.body.code]).toEqual([path, 404, 'ALERT_NOT_FOUND']);
      }
      await as(serviceOfficer).get(`/v1/archive/alerts/${bobs.id}`).expect(200);
    });

    it('refuses patterns it cannot run in linear time and rules of the wrong shape', async () => {
      const cases: [object, number, string][] = [
        [{ name: 'x', kind: 'regex', pattern: '(a+)\\1' }, 422, 'ALERT_RULE_PATTERN_INVALID'],
        [{ name: 'x', kind: 'regex', pattern: '(?=保本)' }, 422, 'ALERT_RULE_PATTERN_INVALID'],
        [{ name: 'x', kind: 'regex', pattern: 'a{1000}' }, 422, 'ALERT_RULE_PATTERN_INVALID'],
        [{ name: 'x', kind: 'regex', pattern: 'a'.repeat(201) }, 400, 'VALIDATION_FAILED'],
        [{ name: 'x', kind: 'keyword', pattern: 'a' }, 422, 'ALERT_RULE_INVALID'],
        [{ name: 'x', kind: 'regex', keywords: ['a'] }, 422, 'ALERT_RULE_INVALID'],
        [{ name: 'x', kind: 'keyword', keywords: [] }, 400, 'VALIDATION_FAILED'],
        [{ name: 'x', kind: 'keyword', keywords: ['a'], severity: 1 }, 400, 'VALIDATION_FAILED'],
        [
          { name: 'x', kind: 'keyword', keywords: ['a'], conversationKinds: ['channel'] },
          400,
          'VALIDATION_FAILED',
        ],
        [{ name: '  ', kind: 'keyword', keywords: ['a'] }, 400, 'VALIDATION_FAILED'],
      ];
      const before = (await as(officer).get('/v1/archive/alert-rules').expect(200)).body.items
        .length;
      for (const [body, status, code] of cases) {
        const res = await as(officer).post('/v1/archive/alert-rules', body);
        expect([res.status, res.body.code, body]).toEqual([status, code, body]);
      }
      expect(
        (await as(officer).get('/v1/archive/alert-rules').expect(200)).body.items,
      ).toHaveLength(before);
    });
  });

  describe('bad input', () => {
    it('answers problem+json with a stable code and changes nothing', async () => {
      const before = await accessCount();
      const cases: [string, object | string, number, string][] = [
        ['/v1/archive/search', { keywords: { all: 'x' } }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { keywords: { some: ['x'] } }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { extra: true }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { limit: 0 }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { limit: '10' }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { from: 'yesterday' }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { conversationId: 'abc' }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { senders: ['a b'] }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { senderDepartments: [0] }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { senderDepartments: ['2'] }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { senderDepartments: Array(51).fill(2) }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { hasAttachment: 'yes' }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { keywords: { all: ['x'.repeat(101)] } }, 400, 'VALIDATION_FAILED'],
        ['/v1/archive/search', { sort: 'relevance' }, 422, 'RELEVANCE_NEEDS_KEYWORDS'],
        [
          '/v1/archive/search',
          { from: day(5).toISOString(), to: day(1).toISOString() },
          422,
          'TIME_RANGE_INVALID',
        ],
        ['/v1/archive/search', { cursor: 'forged' }, 400, 'INVALID_CURSOR'],
        ['/v1/archive/search', '{"keywords":', 400, 'MALFORMED_JSON'],
        [
          '/v1/archive/search',
          { keywords: { all: ['x'.repeat(100)] }, types: Array(2_000_000).fill('t') },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        ['/v1/archive/alerts/not-a-uuid/close', { note: 'x' }, 400, 'VALIDATION_FAILED'],
        [`/v1/archive/alerts/${randomUUID()}/close`, { note: 'x' }, 404, 'ALERT_NOT_FOUND'],
        [
          `/v1/archive/alerts/${randomUUID()}/assign`,
          { assignee: 'officer2', x: 1 },
          400,
          'VALIDATION_FAILED',
        ],
      ];
      for (const [path, body, status, code] of cases) {
        const req = as(officer).post(path, {});
        const res =
          typeof body === 'string'
            ? await compliance
                .http()
                .post(path)
                .set('authorization', `Bearer ${officer}`)
                .set('content-type', 'application/json')
                .send(body)
            : await req.send(body);
        expect([path, res.status, res.body.code]).toEqual([path, status, code]);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
      const badQueries: [string, string][] = [
        [`/v1/archive/conversations/not-a-uuid`, 'VALIDATION_FAILED'],
        [`/v1/archive/conversations/${group}?limit=500`, 'VALIDATION_FAILED'],
        [`/v1/archive/conversations/${group}?around=soon`, 'VALIDATION_FAILED'],
        ['/v1/archive/alerts?status=new', 'VALIDATION_FAILED'],
        ['/v1/archive/alerts?cursor=forged', 'INVALID_CURSOR'],
      ];
      for (const [path, code] of badQueries) {
        const res = await as(officer).get(path);
        expect([path, res.status, res.body.code]).toEqual([path, 400, code]);
      }
      // Another corp's rule and alert ids do not exist here.
      const foreign = await as(otherOfficer)
        .post('/v1/archive/alert-rules', { name: '外部', kind: 'keyword', keywords: ['x'] })
        .expect(201);
      const res = await as(officer).patch(`/v1/archive/alert-rules/${foreign.body.id}`, {
        enabled: false,
      });
      expect([res.status, res.body.code]).toEqual([404, 'ALERT_RULE_NOT_FOUND']);
      expect(await accessCount()).toBe(before);
    });
  });
});
