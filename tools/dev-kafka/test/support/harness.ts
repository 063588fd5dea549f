import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, KafkaConfig, logLevel } from 'kafkajs';
import { DevKafka, DevKafkaOptions, silentLogger, startDevKafka } from '../../src';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export function tempDataDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dev-kafka-${label}-`));
}

/** A broker on a free port with its own data directory, so test files can run in parallel. */
export function startTestBroker(
  options: Partial<DevKafkaOptions> & { dataDir: string },
): Promise<DevKafka> {
  return startDevKafka({ port: 0, logger: silentLogger, ...options });
}

export function kafkaClient(
  broker: DevKafka,
  clientId: string,
  extra: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId,
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    ...extra,
  });
}

/** Polls `check` until it stops throwing or the deadline passes, then rethrows the last failure. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export function headersToStrings(
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  }
  return out;
}
