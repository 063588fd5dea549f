import { deadLetterTopicOf } from '@qiwei/contracts';
import type { Kafka } from 'kafkajs';
import { headersOf } from '../cloud-event';
import { createProducer } from '../kafka/kafka-client';

/** Marks a record as re-driven from its dead-letter topic: consumers handle it again. */
export const REDRIVE_HEADER = 'qiwei_redrive_count';

export interface RedriveResult {
  redriven: number;
}

/**
 * Sends the records of `<topic>.dlq` back to `topic`, without their dead-letter headers, up to
 * the end the DLQ had when the call began. Progress is committed per record in the consumer
 * group `qiwei.dlq-redrive.<topic>`, so a second run does not send the same records again.
 */
export async function redriveDeadLetters(
  kafka: Kafka,
  topic: string,
  options: { limit?: number } = {},
): Promise<RedriveResult> {
  const dlq = deadLetterTopicOf(topic);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `qiwei.dlq-redrive.${topic}`;
  let targets: Map<number, bigint>;
  let committed: Map<number, bigint>;
  try {
    targets = new Map(
      (await admin.fetchTopicOffsets(dlq)).map((p) => [p.partition, BigInt(p.high)]),
    );
    const offsets = await admin.fetchOffsets({ groupId, topics: [dlq] });
    committed = new Map(
      (offsets[0]?.partitions ?? []).map((p) => [
        p.partition,
        BigInt(p.offset === '-1' ? '0' : p.offset),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
  const remaining = [...targets].filter(
    ([partition, high]) => (committed.get(partition) ?? 0n) < high,
  );
  if (remaining.length === 0) return { redriven: 0 };

  const producer = createProducer(kafka);
  const consumer = kafka.consumer({ groupId });
  await producer.connect();
  await consumer.connect();
  let redriven = 0;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const pending = new Set(remaining.map(([partition]) => partition));
  try {
    await new Promise<void>((resolve, reject) => {
      consumer.subscribe({ topic: dlq, fromBeginning: true }).then(
        () =>
          consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const high = targets.get(partition) ?? 0n;
              if (BigInt(message.offset) >= high || redriven >= limit) {
                pending.delete(partition);
                if (pending.size === 0 || redriven >= limit) resolve();
                return;
              }
              const headers = headersOf(message);
              const count = Number(headers[REDRIVE_HEADER] ?? '0') + 1;
              for (const name of Object.keys(headers))
                if (name.startsWith('dlq_')) delete headers[name];
              await producer.send({
                topic: headers.dlq_original_topic ?? topic,
                acks: -1,
                messages: [
                  {
                    key: message.key,
                    value: message.value,
                    headers: { ...headers, [REDRIVE_HEADER]: String(count) },
                  },
                ],
              });
              redriven += 1;
              const next = BigInt(message.offset) + 1n;
              await consumer.commitOffsets([{ topic: dlq, partition, offset: next.toString() }]);
              if (next >= high) pending.delete(partition);
              if (pending.size === 0 || redriven >= limit) resolve();
            },
          }),
        reject,
      );
    });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  return { redriven };
}
