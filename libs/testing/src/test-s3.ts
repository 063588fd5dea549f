import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedS3 } from '@qiwei/embedded-s3';

export interface TestS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** The settings a service reads (storageConfigSchema). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** An S3 server (s3rver) of the test file's own, on a free port, with a throwaway directory. */
export async function startTestS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'qiwei-test-s3-'));
  const s3 = await startEmbeddedS3({ directory, port: 0 });
  let stopping: Promise<void> | undefined;
  return {
    endpoint: s3.endpoint,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    env: { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey },
    // Idempotent, like the broker's: a harness may release twice after a refused start.
    stop: () =>
      (stopping ??= (async () => {
        await s3.stop();
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}
