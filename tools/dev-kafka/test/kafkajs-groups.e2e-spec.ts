import { ChildProcessByStdio, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Consumer, Kafka, Producer } from 'kafkajs';
import { DevKafka } from '../src';
import { eventually, kafkaClient, startTestBroker, tempDataDir } from './support/harness';

const PARTITIONS = 4;
const SESSION_TIMEOUT = 3000;

interface Member {
  consumer: Consumer;
  assigned: number[];
  values: string[];
}

describe('dev-kafka with kafkajs: consumer groups', () => {
  let broker: DevKafka;
  let kafka: Kafka;
  let producer: Producer;
  const started: Consumer[] = [];
  let child: ChildProcessByStdio<null, Readable, Readable> | null = null;

  beforeAll(async () => {
    broker = await startTestBroker({ dataDir: tempDataDir('groups') });
    kafka = kafkaClient(broker, 'groups');
    producer = kafka.producer();
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['shared', 'resume'].map((topic) => ({ topic, numPartitions: PARTITIONS })),
    });
    await admin.disconnect();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    for (const c of started) await c.disconnect().catch(() => undefined);
    await producer.disconnect();
    await broker.stop();
  });

  async function member(groupId: string, topic: string): Promise<Member> {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 300,
      rebalanceTimeout: 20_000,
    });
    started.push(consumer);
    const m: Member = { consumer, assigned: [], values: [] };
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort();
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => void m.values.push(message.value?.toString() ?? ''),
    });
    return m;
  }

  async function produce(topic: string, label: string, count: number): Promise<string[]> {
    const values = Array.from({ length: count }, (_, i) => `${label}-${i}`);
    await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
    return values;
  }

  it('splits partitions between two members, hands over on leave, and evicts a killed member', async () => {
    const a = await member('g-shared', 'shared');
    await eventually(() => expect(a.assigned).toEqual([0, 1, 2, 3]));
    const b = await member('g-shared', 'shared');
    await eventually(() => {
      expect(a.assigned.length).toBeGreaterThan(0);
      expect(b.assigned.length).toBeGreaterThan(0);
      expect([...a.assigned, ...b.assigned].sort()).toEqual([0, 1, 2, 3]);
    });
    const first = await produce('shared', 'first', 200);
    await eventually(() => expect([...a.values, ...b.values].sort()).toEqual([...first].sort()));
    // No overlap: each message went to exactly one member.
    expect(a.values.length + b.values.length).toBe(200);
    expect(a.values.length).toBeGreaterThan(0);
    expect(b.values.length).toBeGreaterThan(0);

    // Graceful leave (LeaveGroup): the survivor takes every partition and gets everything new.
    await b.consumer.disconnect();
    await eventually(() => expect(a.assigned).toEqual([0, 1, 2, 3]));
    const second = await produce('shared', 'second', 100);
    await eventually(() =>
      expect(a.values.filter((v) => v.startsWith('second-')).sort()).toEqual([...second].sort()),
    );

    // A member in another process that dies without leaving is evicted after its session timeout.
    const childValues: string[] = [];
    let childAssigned: number[] = [];
    child = spawn(
      process.execPath,
      [
        path.join(__dirname, 'support', 'group-member.ts'),
        broker.brokers.join(','),
        'g-shared',
        'shared',
        String(SESSION_TIMEOUT),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const event = JSON.parse(line) as { type: string; partitions?: number[]; value?: string };
        if (event.type === 'assigned') childAssigned = event.partitions ?? [];
        if (event.type === 'message' && event.value) childValues.push(event.value);
      }
    });
    await eventually(() => {
      expect(childAssigned.length).toBeGreaterThan(0);
      expect([...a.assigned, ...childAssigned].sort()).toEqual([0, 1, 2, 3]);
    }, 30_000);
    const third = await produce('shared', 'third', 100);
    await eventually(() =>
      expect(new Set([...a.values, ...childValues].filter((v) => v.startsWith('third-')))).toEqual(
        new Set(third),
      ),
    );

    child.kill('SIGKILL');
    const killedAt = Date.now();
    const fourth = await produce('shared', 'fourth', 100);
    await eventually(() => expect(a.assigned).toEqual([0, 1, 2, 3]), 30_000);
    const takeover = Date.now() - killedAt;
    // Nothing lost: the survivor reads every message the dead member had not committed.
    await eventually(() =>
      expect(new Set(a.values.filter((v) => v.startsWith('fourth-')))).toEqual(new Set(fourth)),
    );
    console.info(
      `dev-kafka groups: survivor took over ${takeover} ms after SIGKILL (session timeout ${SESSION_TIMEOUT} ms)`,
    );
    expect(takeover).toBeGreaterThanOrEqual(SESSION_TIMEOUT - 500);
  });

  it('resumes from committed offsets after the group reconnects', async () => {
    const before = await produce('resume', 'before', 40);
    const first = await member('g-resume', 'resume');
    await eventually(() => expect(first.values.sort()).toEqual([...before].sort()));
    await first.consumer.disconnect(); // commits, then leaves

    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'g-resume', topics: ['resume'] });
    const total = committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0);
    expect(total).toBe(40);
    const described = await admin.describeGroups(['g-resume']);
    expect(described.groups[0].state).toBe('Empty');
    await admin.disconnect();

    const after = await produce('resume', 'after', 10);
    const second = await member('g-resume', 'resume');
    await eventually(() => expect(second.values.sort()).toEqual([...after].sort()));
  });
});
