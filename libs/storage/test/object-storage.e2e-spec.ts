import { createHash, randomBytes } from 'node:crypto';
import { startTestS3, type TestS3 } from '@qiwei/testing';
import { ObjectStorage, storageConfigSchema } from '../src';

/** The adapter against a real S3 server (s3rver) through the real minio client. */
describe('storage: ObjectStorage over S3', () => {
  let s3: TestS3;
  let storage: ObjectStorage;
  const bucket = 'qiwei-test';

  beforeAll(async () => {
    s3 = await startTestS3();
    storage = new ObjectStorage(storageConfigSchema.parse(s3.env));
    await storage.ensureBucket(bucket);
    await storage.ensureBucket(bucket); // idempotent
  });
  afterAll(() => s3.stop());

  it('uploads through a presigned URL, then stats, hashes and downloads the object', async () => {
    const body = Buffer.from('合同扫描件 contract scan', 'utf8');
    const url = await storage.presignedPut(bucket, 'corp/a.txt', 600);
    const put = await fetch(url, { method: 'PUT', body });
    expect(put.status).toBe(200);
    expect(await storage.stat(bucket, 'corp/a.txt')).toMatchObject({ size: body.length });
    expect(await storage.sha256(bucket, 'corp/a.txt')).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
    const get = await fetch(await storage.presignedGet(bucket, 'corp/a.txt', 600, '合同.txt'));
    expect(Buffer.from(await get.arrayBuffer())).toEqual(body);
  });

  it('assembles a multipart upload the client sends part by part', async () => {
    const partSize = 5 * 1024 * 1024; // S3's minimum for every part but the last
    const body = randomBytes(partSize * 2 + 1234);
    const upload = await storage.presignedMultipart(bucket, 'corp/big.bin', 3, 600);
    const etags: { partNumber: number; etag: string }[] = [];
    for (const part of upload.parts) {
      const chunk = body.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize);
      const res = await fetch(part.url, { method: 'PUT', body: chunk });
      expect(res.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: String(res.headers.get('etag')) });
    }
    await storage.completeMultipart(bucket, 'corp/big.bin', upload.uploadId, etags);
    expect(await storage.stat(bucket, 'corp/big.bin')).toMatchObject({ size: body.length });
    expect(await storage.sha256(bucket, 'corp/big.bin')).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
  });

  it('copies and removes objects, and answers null for a missing one', async () => {
    await storage.put(bucket, 'corp/src.txt', Buffer.from('evidence'), 8, 'text/plain');
    await storage.ensureBucket('qiwei-archive-test');
    await storage.copy(bucket, 'corp/src.txt', 'qiwei-archive-test', 'copy.txt');
    expect(await storage.stat('qiwei-archive-test', 'copy.txt')).toMatchObject({ size: 8 });
    await storage.remove(bucket, 'corp/src.txt');
    expect(await storage.stat(bucket, 'corp/src.txt')).toBeNull();
    expect(await storage.stat(bucket, 'never/uploaded')).toBeNull();
  });

  it('lists objects under a prefix and reads a small one whole', async () => {
    for (const key of ['heads/b.json', 'heads/a.json', 'other/c.json'])
      await storage.put(bucket, key, Buffer.from(`{"k":"${key}"}`));
    const listed: string[] = [];
    for await (const item of storage.list(bucket, 'heads/')) listed.push(item.key);
    expect(listed).toEqual(['heads/a.json', 'heads/b.json']);
    expect((await storage.read(bucket, 'heads/a.json')).toString()).toBe('{"k":"heads/a.json"}');
  });

  it('refuses a configuration without an endpoint, naming the variable', () => {
    const parsed = storageConfigSchema.safeParse({ S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('S3_ENDPOINT');
  });
});
