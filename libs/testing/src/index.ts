export { createTestDatabase, type TestDatabase } from './test-database';
export { bootTestApp, testPlatformConfig, type TestApp } from './test-app';
export { eventually } from './eventually';
export { freePort } from './free-port';
export { unique } from './unique';
export { REPO_ROOT, distEntry, spawnNode, isListening, type SpawnedProcess } from './processes';
export { startTestKafka, type TestKafka } from './test-kafka';
export { startTestS3, type TestS3 } from './test-s3';
export { startServiceProcess, startIdentityProcess, type ServiceProcess } from './service-process';
