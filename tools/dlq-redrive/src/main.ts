// npm run dlq:redrive -- <topic> [--limit N]
// Sends the records of <topic>.dlq back to <topic> once their cause is fixed. KAFKA_BROKERS
// names the cluster (default: the dev broker of `npm start`).
import { createKafka, redriveDeadLetters } from '@qiwei/events';
import { createLogger } from '@qiwei/platform';

const USAGE =
  'usage: npm run dlq:redrive -- <topic> [--limit N]   (KAFKA_BROKERS=host:port,… ; default 127.0.0.1:9092)';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const topic = args.find((a) => !a.startsWith('--'));
  const limitIndex = args.indexOf('--limit');
  const limit = limitIndex >= 0 ? Number(args[limitIndex + 1]) : undefined;
  if (
    !topic ||
    !/^qiwei\.[a-z-]+\.[a-z-]+\.v[0-9]+$/.test(topic) ||
    (limit !== undefined && !(limit > 0))
  ) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const kafka = createKafka({
    brokers,
    clientId: 'qiwei-dlq-redrive',
    logger: createLogger({ service: 'dlq-redrive', level: 'warn' }),
  });
  const { redriven } = await redriveDeadLetters(kafka, topic, { limit });
  process.stdout.write(`re-drove ${redriven} record(s) from ${topic}.dlq to ${topic}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dlq:redrive failed: ${(error as Error).message}\n`);
  process.exit(1);
});
