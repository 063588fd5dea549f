// A service's outbox relay as a process of its own, so a test can SIGKILL it mid-batch.
import { createDataSource } from '@qiwei/persistence';
import { createLogger } from '@qiwei/platform';
import {
  createKafka,
  createProducer,
  DEFAULT_RELAY_OPTIONS,
  OutboxRelay,
  OutboxRelayWorker,
  type OutboxRelayOptions,
} from '../../src';

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL as string;
  const dataSource = createDataSource({
    url: databaseUrl,
    applicationName: 'relay-process',
    entities: [],
    migrations: [],
  });
  await dataSource.initialize();
  const kafka = createKafka({
    brokers: (process.env.KAFKA_BROKERS as string).split(','),
    clientId: 'relay-process',
  });
  const producer = createProducer(kafka);
  await producer.connect();
  const options: OutboxRelayOptions = {
    ...DEFAULT_RELAY_OPTIONS,
    databaseUrl,
    batchSize: Number(process.env.BATCH_SIZE ?? 100),
    pollIntervalMs: 100,
  };
  const logger = createLogger({ service: 'relay-process', level: 'warn' });
  // RELAY_MODE=worker: the relay in its worker thread, as services run it by default.
  const relay =
    process.env.RELAY_MODE === 'worker'
      ? new OutboxRelayWorker(
          dataSource,
          {
            relay: options,
            brokers: (process.env.KAFKA_BROKERS as string).split(','),
            clientId: 'relay-process',
          },
          logger,
        )
      : new OutboxRelay(dataSource, producer, options, logger);
  await relay.start();
  process.stdout.write(`relay started, lanes ${relay.lanes().join(',')}\n`);
  process.once('SIGTERM', () => {
    void relay
      .stop()
      .then(() => producer.disconnect())
      .then(() => dataSource.destroy())
      .then(() => process.exit(0));
  });
}

void main();
