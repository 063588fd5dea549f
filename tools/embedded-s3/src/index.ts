import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

export interface EmbeddedS3Options {
  /** Where buckets and objects are kept (files on disk). */
  directory: string;
  port: number;
  address?: string;
}

export interface RunningS3 {
  /** `http://host:port`, for S3_ENDPOINT. */
  endpoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  stop(): Promise<void>;
}

/** s3rver's fixed credentials. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

/**
 * `s3rver`: the S3 protocol on loopback, the embedded default for object storage (`npm start`
 * and the tests), so the same `minio` client code runs as against MinIO in production. It does
 * not check signatures (any presigned URL works) and has no object lock: production checks
 * belong to MinIO.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<RunningS3> {
  mkdirSync(options.directory, { recursive: true });
  const address = options.address ?? '127.0.0.1';
  const server = new S3rver({
    port: options.port,
    address,
    directory: options.directory,
    silent: true,
    allowMismatchedSignatures: true,
  });
  const listening = await server.run();
  const port = listening.port;
  return {
    endpoint: `http://${address}:${port}`,
    port,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    stop: () => server.close(),
  };
}
