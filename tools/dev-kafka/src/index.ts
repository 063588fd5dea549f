export { startDevKafka } from './server/dev-kafka-server';
export type { DevKafka } from './server/dev-kafka-server';
export type { DevKafkaOptions, DevKafkaRetentionOptions } from './config';
export { optionsFromEnv } from './config';
export type { DevKafkaLogger } from './logger';
export { consoleLogger, quietLogger, silentLogger } from './logger';
export { SUPPORTED_APIS } from './protocol/api-keys';
export { spawnDevKafka, type DevKafkaProcess } from './broker-process';
