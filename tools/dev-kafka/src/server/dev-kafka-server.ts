import * as fs from 'node:fs';
import * as net from 'node:net';
import { DevKafkaOptions, resolveConfig } from '../config';
import { GroupCoordinator } from '../coordinator/group-coordinator';
import { OffsetStore } from '../storage/offset-store';
import { TopicStore } from '../storage/topic-store';
import { Connection } from './connection';
import { FetchHandler } from './fetch-handler';
import { RequestRouter } from './request-router';

export interface DevKafka {
  readonly host: string;
  readonly port: number;
  /** Bootstrap list for clients, e.g. ['127.0.0.1:9092']. */
  readonly brokers: string[];
  readonly dataDir: string;
  /** Closes every connection, flushes logs and offsets, and resolves once fully closed. */
  stop(): Promise<void>;
}

/** Starts a broker: recovers the data directory, then listens. */
export async function startDevKafka(options: DevKafkaOptions): Promise<DevKafka> {
  const config = resolveConfig(options);
  const { logger } = config;
  fs.mkdirSync(config.dataDir, { recursive: true });
  const topics = new TopicStore(config.dataDir, config.retention, logger);
  topics.load();
  const offsets = new OffsetStore(config.dataDir);
  offsets.load();
  const groups = new GroupCoordinator(
    offsets,
    topics,
    {
      minSessionTimeoutMs: config.minSessionTimeoutMs,
      maxSessionTimeoutMs: config.maxSessionTimeoutMs,
    },
    logger,
  );
  const fetches = new FetchHandler(topics);
  let port = config.port;
  const router = new RequestRouter(config, () => port, topics, groups, fetches);
  const connections = new Set<Connection>();
  const server = net.createServer((socket) => {
    const connection = new Connection(
      socket,
      (frame, clientHost) => router.handle(frame, clientHost),
      logger,
    );
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address && typeof address === 'object') port = address.port;
  const retentionTimer = setInterval(() => {
    try {
      topics.applyRetention(Date.now());
    } catch (err) {
      logger.error(
        `dev-kafka: retention failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }, config.retentionCheckIntervalMs);
  retentionTimer.unref();
  logger.info(
    `dev-kafka: listening on ${config.advertisedHost}:${port}, data in ${config.dataDir}`,
  );

  let stopping: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    clearInterval(retentionTimer);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    groups.shutdown();
    fetches.releaseAll();
    for (const c of connections) c.destroy();
    await closed;
    await offsets.save();
    topics.close();
    logger.info('dev-kafka: stopped');
  };
  return {
    host: config.advertisedHost,
    port,
    brokers: [`${config.advertisedHost}:${port}`],
    dataDir: config.dataDir,
    stop: () => (stopping ??= stop()),
  };
}
