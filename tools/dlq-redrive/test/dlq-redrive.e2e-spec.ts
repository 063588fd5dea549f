import { create } from '@bufbuild/protobuf';
import { defineTopic, DepartmentCreatedSchema, DepartmentSchema } from '@qiwei/contracts';
import { createKafka, createProducer, encodeEvent, ensureTopics } from '@qiwei/events';
import { distEntry, spawnNode, startTestKafka, type TestKafka } from '@qiwei/testing';

/** The operator's re-drive command, as a process against a real broker. */
describe('npm run dlq:redrive', () => {
  let broker: TestKafka;
  beforeAll(async () => {
    broker = await startTestKafka();
  });
  afterAll(() => broker.stop());

  const run = async (args: string[]) => {
    const proc = spawnNode(
      distEntry('tools/dlq-redrive/src/main.js'),
      {
        PATH: process.env.PATH,
        KAFKA_BROKERS: broker.brokers.join(','),
      },
      args,
    );
    const { code } = await proc.exited;
    return { code, output: proc.output() };
  };

  it('refuses a missing or malformed topic with its usage', async () => {
    expect(await run([])).toMatchObject({
      code: 2,
      output: expect.stringContaining('usage: npm run dlq:redrive'),
    });
    expect((await run(['not a topic'])).code).toBe(2);
    expect((await run(['qiwei.testing.thing.v1', '--limit', '0'])).code).toBe(2);
  });

  it('sends dead letters back to their topic without their dlq headers, once', async () => {
    const topic = defineTopic({
      name: 'qiwei.testing.redrive.v1',
      publisher: 'testing',
      summary: 's',
      key: 'k',
      partitions: 1,
      retentionMs: -1,
      events: [
        { type: 'qiwei.testing.redrive.created.v1', schema: DepartmentCreatedSchema, summary: 's' },
      ],
    });
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'redrive-test' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic]);
    const producer = createProducer(kafka);
    await producer.connect();
    const event = encodeEvent(topic, '/qiwei/testing', {
      type: 'qiwei.testing.redrive.created.v1',
      tenant: 't',
      key: 't',
      subject: 'department/9',
      data: { department: create(DepartmentSchema, { id: 9 }) },
    });
    await producer.send({
      topic: `${topic.name}.dlq`,
      acks: -1,
      messages: [
        {
          key: event.key,
          value: event.value,
          headers: { ...event.headers, dlq_error: 'Error: boom', dlq_attempts: '5' },
        },
      ],
    });
    await producer.disconnect();

    expect(await run([topic.name])).toMatchObject({
      code: 0,
      output: expect.stringContaining('re-drove 1 record(s)'),
    });
    expect(await run([topic.name])).toMatchObject({
      code: 0,
      output: expect.stringContaining('re-drove 0 record(s)'),
    });

    const offsets = await admin.fetchTopicOffsets(topic.name);
    expect(offsets[0].high).toBe('1');
    const consumer = kafka.consumer({ groupId: 'redrive-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    const headers = await new Promise<Record<string, string>>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) =>
          resolve(
            Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            ),
          ),
      });
    });
    await consumer.disconnect();
    await admin.disconnect();
    expect(headers).toMatchObject({ ce_id: event.id, qiwei_redrive_count: '1' });
    expect(Object.keys(headers).filter((h) => h.startsWith('dlq_'))).toEqual([]);
  });
});
