import { optionsFromEnv } from './config';
import { consoleLogger } from './logger';
import { startDevKafka } from './server/dev-kafka-server';

async function main(): Promise<void> {
  const kafka = await startDevKafka({
    ...optionsFromEnv(process.env, process.cwd()),
    logger: consoleLogger,
  });
  console.log(`dev-kafka ready: bootstrap ${kafka.brokers.join(',')} (data ${kafka.dataDir})`);
  const shutdown = (signal: string): void => {
    console.log(`dev-kafka: ${signal}, stopping`);
    kafka.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
