import { randomUUID } from 'node:crypto';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { bearer, distEntry, eventually, spawnNode } from '@qiwei/testing';
import { ChainHeadSigner } from '../src/chain/chain-heads';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import { sentEvent } from './support/events';

describe('compliance: archiving messaging’s conversations', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let alice: string;
  let officer: string;

  beforeAll(async () => {
    compliance = await bootCompliance({ withMessaging: true });
    corp = await compliance.createCorp();
    [alice, officer] = await Promise.all([
      corp.member('alice'),
      corp.member('officer', ['compliance_officer']),
      corp.member('bob'),
    ]);
  }, 180_000);
  afterAll(() => compliance?.close());

  const messaging = async (token: string, method: string, path: string, body?: object) => {
    const res = await fetch(`${compliance.messagingUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const as = (token: string) => bearer(compliance, token);
  const verify = async () => (await as(officer).get('/v1/archive/verify').expect(200)).body;

  it('archives messages sent through messaging, and a recall as its own record pointing at the original', async () => {
    const group = await eventually(async () => {
      const created = await messaging(alice, 'POST', '/v1/conversations', {
        kind: 'group',
        name: '理财项目组',
        members: ['bob'],
      });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
      return created.body as { id: string };
    });
    const texts = ['这款理财产品收益很高，保本保息', 'Meeting at 3pm about the Q3 report', '好的'];
    for (const [i, text] of texts.entries()) {
      const sent = await messaging(alice, 'POST', `/v1/conversations/${group.id}/messages`, {
        clientMsgId: `m${i}`,
        type: 'text',
        text,
      });
      expect(sent.status).toBe(201);
    }
    expect(
      (await messaging(alice, 'POST', `/v1/conversations/${group.id}/read`, { seq: 3 })).status,
    ).toBe(204);
    const recalled = await messaging(
      alice,
      'POST',
      `/v1/conversations/${group.id}/messages/3/recall`,
    );
    expect(recalled.status).toBe(200);

    // conversation.created, three messages, one recall; the read receipt is not archived.
    await compliance.archived(corp.corpId, 5);
    const view = await as(officer).get(`/v1/archive/conversations/${group.id}`).expect(200);
    expect(view.body.conversation).toMatchObject({
      id: group.id,
      kind: 'group',
      name: '理财项目组',
    });
    const records = view.body.records as Record<string, unknown>[];
    expect(records.map((r) => r.type)).toEqual([
      'conversation.created',
      'text',
      'text',
      'text',
      'recall',
    ]);
    const original = records[3];
    expect(original).toMatchObject({
      kind: 'message',
      text: '好的',
      sender: 'alice',
      seq: 3,
      participants: expect.arrayContaining(['alice', 'bob']),
    });
    expect(records[4]).toMatchObject({
      kind: 'recall',
      preMessageId: original.messageId,
      sender: 'alice',
      seq: 3,
      details: { recalledBy: 'alice' },
    });
    // Nothing of it is shown to anyone but compliance officers.
    const refused = await as(alice).post('/v1/archive/search', { keywords: { all: ['理财'] } });
    expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    const found = await as(officer)
      .post('/v1/archive/search', { keywords: { all: ['理财'] } })
      .expect(200);
    expect(found.body.items).toHaveLength(1);
    expect(found.body.items[0].highlight).toContain('这款<em>理财</em>产品');
    expect((await verify()).ok).toBe(true);
  });

  it('archives a redelivered event once', async () => {
    const conversation = randomUUID();
    const id = randomUUID();
    const [before] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM archive_records WHERE corp_id = $1', [
        corp.corpId,
      ]);
    const event = sentEvent(corp.corpId, conversation, 1, 'twice', { id });
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [event, event]);
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      event,
      sentEvent(corp.corpId, conversation, 2, 'after'),
    ]);
    await compliance.archived(corp.corpId, Number(before.n) + 2);
    const rows = await compliance
      .db()
      .query<{ text: string }[]>(
        'SELECT text FROM archive_records WHERE corp_id = $1 AND conversation_id = $2 ORDER BY chain_seq',
        [corp.corpId, conversation],
      );
    expect(rows.map((r) => r.text)).toEqual(['twice', 'after']);
  });

  it('keeps one unforked chain per corp while partitions are archived concurrently', async () => {
    const [before] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM archive_records WHERE corp_id = $1', [
        corp.corpId,
      ]);
    const conversations = Array.from({ length: 24 }, () => randomUUID());
    const events = Array.from({ length: 600 }, (_, i) =>
      sentEvent(corp.corpId, conversations[i % 24], Math.floor(i / 24) + 1, `并发消息 ${i}`),
    );
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, events);
    await compliance.archived(corp.corpId, Number(before.n) + 600);
    const [chain] = await compliance
      .db()
      .query<{ n: string; max: string; distinct_prev: string }[]>(
        `SELECT count(*) AS n, max(chain_seq) AS max, count(DISTINCT prev_hash) AS distinct_prev
           FROM archive_records WHERE corp_id = $1`,
        [corp.corpId],
      );
    expect(Number(chain.max)).toBe(Number(chain.n));
    expect(Number(chain.distinct_prev)).toBe(Number(chain.n));
    const report = await verify();
    expect(report.archive).toMatchObject({ ok: true, records: Number(chain.n), firstBroken: null });
  });

  it('refuses changes to the archive in PostgreSQL, and verification finds a row edited behind the trigger’s back', async () => {
    const db = compliance.db();
    const signed = await compliance.app.get(ChainHeadSigner).signHeads();
    expect(signed).toBeGreaterThanOrEqual(1);
    const before = await verify();
    expect(before.archive).toMatchObject({ ok: true, firstBroken: null });
    expect(before.archive.signedHeadsChecked).toBeGreaterThanOrEqual(1);

    for (const statement of [
      `UPDATE archive_records SET text = 'x' WHERE corp_id = '${corp.corpId}' AND chain_seq = 2`,
      `DELETE FROM archive_records WHERE corp_id = '${corp.corpId}' AND chain_seq = 2`,
      'TRUNCATE archive_records CASCADE',
      `UPDATE access_log SET actor = 'nobody' WHERE corp_id = '${corp.corpId}'`,
      `DELETE FROM chain_heads WHERE corp_id = '${corp.corpId}'`,
    ]) {
      await expect(db.query(statement)).rejects.toThrow(/append-only/);
    }

    // What a superuser could do: switch the trigger off, rewrite a message, switch it back on.
    await db.query('ALTER TABLE archive_records DISABLE TRIGGER archive_records_append_only');
    await db.query(
      `UPDATE archive_records SET text = '这款产品收益一般' WHERE corp_id = $1 AND chain_seq = 2`,
      [corp.corpId],
    );
    await db.query('ALTER TABLE archive_records ENABLE TRIGGER archive_records_append_only');
    const after = await verify();
    expect(after.ok).toBe(false);
    expect(after.archive.firstBroken).toEqual({
      chainSeq: 2,
      reason: 'record 2 was altered: its content does not match its hash',
    });
    // The access log's chain is intact and recorded the verifications.
    expect(after.accessLog.ok).toBe(true);

    // The CLI finds the same break straight in the database.
    const cli = spawnNode(
      distEntry('services/compliance/src/cli/verify-archive.js'),
      {
        ...process.env,
        DATABASE_URL: compliance.databaseUrl,
        COMPLIANCE_SIGNING_KEY: compliance.config.COMPLIANCE_SIGNING_KEY,
      },
      [corp.corpId],
    );
    expect((await cli.exited).code).toBe(1);
    expect(cli.output()).toContain('record 2 was altered: its content does not match its hash');
  });

  it('sends poison events to the dead-letter topic and archives nothing of them', async () => {
    const conversation = randomUUID();
    await compliance.publishRaw(MESSAGING_MESSAGE_TOPIC.name, {
      key: conversation,
      value: '{not json',
      headers: {
        ce_id: randomUUID(),
        ce_source: '/qiwei/messaging',
        ce_type: 'qiwei.messaging.message.sent.v1',
        ce_specversion: '1.0',
        ce_time: new Date().toISOString(),
        ce_subject: 'x',
        ce_tenant: corp.corpId,
        'content-type': 'application/json',
      },
    });
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      sentEvent('not-a-corp', conversation, 1, '坏'),
    ]);
    const seen: string[] = [];
    const consumer = createKafka({ brokers: compliance.brokers, clientId: 'dlq-reader' }).consumer({
      groupId: `dlq-reader-${randomUUID()}`,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({
        topic: `${MESSAGING_MESSAGE_TOPIC.name}.dlq`,
        fromBeginning: true,
      });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (String(message.key) === conversation) seen.push(String(message.headers?.dlq_error));
        },
      });
      await eventually(() => {
        if (seen.length < 2) throw new Error(`${seen.length} of 2 dead letters`);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.some((e) => /PoisonMessageError/.test(e))).toBe(true);
    expect(seen.some((e) => /corp id "not-a-corp" is not valid/.test(e))).toBe(true);
    const rows = await compliance
      .db()
      .query<unknown[]>('SELECT 1 FROM archive_records WHERE conversation_id = $1', [conversation]);
    expect(rows).toHaveLength(0);
  });
});
