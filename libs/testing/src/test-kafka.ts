import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, startDevKafka } from '@qiwei/dev-kafka';

export interface TestKafka {
  brokers: string[];
  stop(): Promise<void>;
}

/** A dev Kafka broker of the test file's own, on a free port, with a throwaway data dir. */
export async function startTestKafka(
  options: { defaultPartitions?: number } = {},
): Promise<TestKafka> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const dataDir = await mkdtemp(join(tmpdir(), 'qiwei-test-kafka-'));
  const kafka = await startDevKafka({
    port: 0,
    dataDir,
    logger: silentLogger,
    defaultPartitions: options.defaultPartitions ?? 3,
    minSessionTimeoutMs: 1_000,
  });
  return {
    brokers: kafka.brokers,
    async stop() {
      await kafka.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
