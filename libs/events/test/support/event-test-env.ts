import { create } from '@bufbuild/protobuf';
import {
  defineTopic,
  DepartmentCreatedSchema,
  DepartmentDeletedSchema,
  DepartmentSchema,
  type TopicDefinition,
} from '@qiwei/contracts';
import { createDataSource, runMigrations } from '@qiwei/persistence';
import {
  createTestDatabase,
  startTestKafka,
  type TestDatabase,
  type TestKafka,
} from '@qiwei/testing';
import type { Kafka } from 'kafkajs';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  createKafka,
  CreateEventTables1763800000000,
  headersOf,
  OutboxNotifyAfterCommit1765100000000,
  type NewEvent,
  type ReceivedEvent,
  type Subscription,
} from '../../src';

/** Effects of test handlers: deliberately without a unique constraint, so doubles would show. */
export class CreateEffectsTable1763800000001 implements MigrationInterface {
  name = 'CreateEffectsTable1763800000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE effects (
      n bigserial PRIMARY KEY, consumer text NOT NULL, event_id text NOT NULL, key text, seq int NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE effects');
  }
}

export const EVENT_TEST_MIGRATIONS = [
  CreateEventTables1763800000000,
  CreateEffectsTable1763800000001,
  OutboxNotifyAfterCommit1765100000000,
];

/** A topic of the test's own (real generated schemas, conventional names). */
export function aTestTopic(aggregate: string, partitions = 3): TopicDefinition {
  return defineTopic({
    name: `qiwei.testing.${aggregate}.v1`,
    publisher: 'testing',
    summary: 'test topic',
    key: 'corp id',
    partitions,
    retentionMs: -1,
    events: [
      {
        type: `qiwei.testing.${aggregate}.created.v1`,
        schema: DepartmentCreatedSchema,
        summary: 'created',
      },
      {
        type: `qiwei.testing.${aggregate}.deleted.v1`,
        schema: DepartmentDeletedSchema,
        summary: 'deleted',
      },
    ],
  });
}

/** Event `seq` of key `key`: the department id carries the sequence number. */
export function anEvent(
  topic: TopicDefinition,
  key: string,
  seq: number,
): NewEvent<typeof DepartmentCreatedSchema> {
  return {
    type: topic.events[0].type,
    tenant: key,
    subject: `department/${seq}`,
    key,
    data: {
      department: create(DepartmentSchema, {
        corpId: key,
        id: seq,
        name: `部门${seq}`,
        depth: 2,
        path: [1, seq],
      }),
    },
  };
}

export const seqOf = (event: ReceivedEvent) =>
  (event.data as { department?: { id: number } }).department?.id ?? -1;

export interface EventTestEnv {
  dataSource: DataSource;
  databaseUrl: string;
  brokers: string[];
  kafka: Kafka;
  close(): Promise<void>;
}

export async function startEventTestEnv(label: string): Promise<EventTestEnv> {
  const database: TestDatabase = await createTestDatabase(label);
  const dataSource = createDataSource({
    url: database.url,
    applicationName: label,
    entities: [],
    migrations: EVENT_TEST_MIGRATIONS,
    poolSize: 8,
  });
  await dataSource.initialize();
  await runMigrations(dataSource);
  const broker: TestKafka = await startTestKafka();
  return {
    dataSource,
    databaseUrl: database.url,
    brokers: broker.brokers,
    kafka: createKafka({ brokers: broker.brokers, clientId: label }),
    async close() {
      await dataSource.destroy();
      await broker.stop();
      await database.drop();
    },
  };
}

/** A handler that records each event it handles in `effects`, in the inbox transaction. */
export function recordingSubscription(
  name: string,
  topic: TopicDefinition,
  fail?: (event: ReceivedEvent, attempt: number) => Error | undefined,
): Subscription & { attempts: Map<string, number> } {
  const attempts = new Map<string, number>();
  return {
    name,
    topic,
    attempts,
    async handle(event, manager) {
      const attempt = (attempts.get(event.id) ?? 0) + 1;
      attempts.set(event.id, attempt);
      const error = fail?.(event, attempt);
      if (error) throw error;
      await manager.query(
        'INSERT INTO effects (consumer, event_id, key, seq) VALUES ($1, $2, $3, $4)',
        [name, event.id, event.key, seqOf(event)],
      );
    },
  };
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning with a plain kafkajs consumer until `count` records arrived. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`,
  });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${records.length} of ${count} records of ${topic} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: headersOf(message),
          });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The sequence number in a record's JSON payload (proto3 JSON omits a zero id). */
export const seqOfRecord = (record: { value: string | null }) =>
  (JSON.parse(record.value as string) as { department?: { id?: number } }).department?.id ?? 0;
