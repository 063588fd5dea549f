import { fromJsonString } from '@bufbuild/protobuf';
import {
  CorpCreatedSchema,
  DepartmentCreatedSchema,
  DepartmentDeletedSchema,
  DepartmentMovedSchema,
  DepartmentUpdatedSchema,
  MemberCreatedSchema,
} from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { eventually } from '@qiwei/testing';
import type { Kafka } from 'kafkajs';
import { aDepartment } from './builders';
import { bootIdentity, type IdentityTestApp } from './identity-test-app';

interface Received {
  key: string;
  type: string;
  headers: Record<string, string>;
  value: string;
}

/** What identity tells the rest of the platform, through the outbox, as it changes the tree. */
describe('identity: events', () => {
  let identity: IdentityTestApp;
  let kafka: Kafka;
  const received = new Map<string, Received[]>();
  const consumers: { disconnect(): Promise<void> }[] = [];

  beforeAll(async () => {
    identity = await bootIdentity();
    kafka = createKafka({ brokers: identity.brokers, clientId: 'identity-events-test' });
    for (const topic of [
      'qiwei.identity.corp.v1',
      'qiwei.identity.department.v1',
      'qiwei.identity.member.v1',
    ]) {
      const consumer = kafka.consumer({ groupId: `test-${topic}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
          );
          const list = received.get(topic) ?? [];
          list.push({
            key: String(message.key),
            type: headers.ce_type,
            headers,
            value: String(message.value),
          });
          received.set(topic, list);
        },
      });
      consumers.push(consumer);
    }
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await identity.close();
  });

  const departmentEvents = (corpId: string) =>
    (received.get('qiwei.identity.department.v1') ?? []).filter((r) => r.key === corpId);

  it('announces a new corp, its root department and its first super admin', async () => {
    const corp = await identity.createCorp('事件公司');
    await eventually(() => {
      const corpEvent = (received.get('qiwei.identity.corp.v1') ?? []).find(
        (r) => r.key === corp.corpId,
      );
      expect(corpEvent).toBeDefined();
      expect(fromJsonString(CorpCreatedSchema, (corpEvent as Received).value).corp).toMatchObject({
        corpId: corp.corpId,
        name: '事件公司',
      });
      expect(departmentEvents(corp.corpId).map((e) => e.type)).toEqual([
        'qiwei.identity.department.created.v1',
      ]);
      const adminEvents = (received.get('qiwei.identity.member.v1') ?? []).filter(
        (r) => r.key === corp.corpId,
      );
      expect(adminEvents.map((e) => e.type)).toEqual(['qiwei.identity.member.created.v1']);
      expect(fromJsonString(MemberCreatedSchema, adminEvents[0].value).member).toMatchObject({
        userid: 'admin',
        status: 'active',
        roles: ['super_admin'],
        departments: [{ departmentId: 1 }],
        mainDepartmentId: 1,
      });
    });
    const [root] = departmentEvents(corp.corpId);
    expect(root.headers).toMatchObject({
      ce_source: '/qiwei/identity',
      ce_tenant: corp.corpId,
      ce_subject: 'department/1',
      ce_dataschema: 'qiwei.identity.v1.DepartmentCreated',
    });
    const rootState = fromJsonString(DepartmentCreatedSchema, root.value).department;
    expect(rootState?.parentId).toBeUndefined(); // the root has no parent
    expect(rootState).toMatchObject({
      id: 1,
      depth: 1,
      path: [1],
      name: '事件公司',
    });
  });

  it('announces every change of the tree in order, with the full state, and nothing for refused changes', async () => {
    const corp = await identity.createCorp();
    const api = identity.http();
    const auth = { authorization: `Bearer ${corp.token}` };
    const a = (
      await api.post('/v1/departments').set(auth).send(aDepartment().named('A').build()).expect(201)
    ).body;
    const b = (
      await api.post('/v1/departments').set(auth).send(aDepartment().named('B').build()).expect(201)
    ).body;
    await identity
      .http()
      .post('/v1/departments')
      .set(auth)
      .send(aDepartment().named('A').build())
      .expect(409);
    await identity
      .http()
      .patch(`/v1/departments/${a.id}`)
      .set(auth)
      .send({ name: 'A2', order: 7 })
      .expect(200);
    await identity
      .http()
      .patch(`/v1/departments/${a.id}`)
      .set(auth)
      .send({ parentId: b.id })
      .expect(200);
    await identity
      .http()
      .patch(`/v1/departments/${a.id}`)
      .set(auth)
      .send({ parentId: a.id })
      .expect(422);
    await identity.http().delete(`/v1/departments/${a.id}`).set(auth).expect(204);

    await eventually(() =>
      expect(departmentEvents(corp.corpId).map((e) => e.type)).toEqual([
        'qiwei.identity.department.created.v1', // root
        'qiwei.identity.department.created.v1',
        'qiwei.identity.department.created.v1',
        'qiwei.identity.department.updated.v1',
        'qiwei.identity.department.moved.v1',
        'qiwei.identity.department.deleted.v1',
      ]),
    );
    const events = departmentEvents(corp.corpId);
    expect(fromJsonString(DepartmentUpdatedSchema, events[3].value).department).toMatchObject({
      id: a.id,
      name: 'A2',
      order: 7,
      path: [1, a.id],
    });
    const moved = fromJsonString(DepartmentMovedSchema, events[4].value);
    expect(moved.previousParentId).toBe(1);
    expect(moved.department).toMatchObject({
      id: a.id,
      parentId: b.id,
      depth: 3,
      path: [1, b.id, a.id],
      name: 'A2',
    });
    expect(fromJsonString(DepartmentDeletedSchema, events[5].value)).toMatchObject({
      corpId: corp.corpId,
      id: a.id,
    });
    // One partition per corp: the order above is the order any consumer sees.
    expect(new Set(events.map((e) => e.headers.ce_id)).size).toBe(events.length);
  });

  it('creates its topics and their dead-letter topics as the catalog says, not by auto-creation', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The test broker auto-creates topics with 3 partitions; the catalog says 6 and 3.
      const { topics } = await admin.fetchTopicMetadata({
        topics: [
          'qiwei.identity.department.v1',
          'qiwei.identity.department.v1.dlq',
          'qiwei.identity.corp.v1',
        ],
      });
      expect(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]))).toEqual({
        'qiwei.identity.department.v1': 6,
        'qiwei.identity.department.v1.dlq': 6,
        'qiwei.identity.corp.v1': 3,
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('exposes the outbox and consumer metrics', async () => {
    const metrics = await identity.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/qiwei_outbox_backlog_events\{[^}]*\} \d+/);
    expect(metrics.text).toMatch(/qiwei_outbox_oldest_pending_age_seconds/);
    expect(metrics.text).toMatch(
      /qiwei_outbox_published_total\{[^}]*topic="qiwei.identity.department.v1"[^}]*\} [1-9]/,
    );
    expect(metrics.text).toContain('qiwei_outbox_publish_latency_seconds_bucket');
  });
});
