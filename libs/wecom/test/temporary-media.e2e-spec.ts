import { createHash } from 'node:crypto';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { startTestS3, type TestS3 } from '@qiwei/testing';
import { WecomMediaStore } from '../src';

/** WeCom's temporary media against a real S3 server (s3rver) through the minio client. */
describe('wecom: temporary media store', () => {
  let s3: TestS3;
  let storage: ObjectStorage;
  let store: WecomMediaStore;

  beforeAll(async () => {
    s3 = await startTestS3();
    storage = new ObjectStorage(storageConfigSchema.parse(s3.env));
    store = new WecomMediaStore(storage, {
      bucket: 'qiwei-wecom-media-test',
      limits: { file: 64 },
    });
    await store.ensureBucket();
  });
  afterAll(() => s3.stop());

  it('stores an upload under a fresh media id and reads it back in the same corp only', async () => {
    const bytes = Buffer.from('姓名,帐号\n张三,zhangsan\n', 'utf8');
    const media = await store.put('wwcorpa', {
      type: 'file',
      filename: '../通讯录.csv',
      bytes,
      contentType: 'text/csv',
      uploader: 'app:1000002',
    });
    expect(media).toMatchObject({
      type: 'file',
      filename: '通讯录.csv',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      objectKey: `wwcorpa/${media.mediaId}`,
    });
    expect(media.mediaId).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const read = await store.read('wwcorpa', media.mediaId);
    expect(read.bytes).toEqual(bytes);
    expect(read.media).toMatchObject({
      filename: '通讯录.csv',
      contentType: 'text/csv',
      uploader: 'app:1000002',
      sha256: media.sha256,
    });
    await expect(store.describe('wwcorpb', media.mediaId)).rejects.toMatchObject({
      code: 'MEDIA_ID_INVALID',
    });
  });

  it('refuses an expired, malformed or unknown media id', async () => {
    const created = new Date('2026-01-01T00:00:00Z');
    const media = await store.put(
      'wwcorpa',
      { type: 'image', filename: 'a.png', bytes: Buffer.alloc(10, 1), uploader: 'u1' },
      created,
    );
    const justBefore = new Date(created.getTime() + 3 * 24 * 3600 * 1000 - 1);
    await expect(store.describe('wwcorpa', media.mediaId, justBefore)).resolves.toMatchObject({
      contentType: 'image/png',
    });
    await expect(
      store.describe('wwcorpa', media.mediaId, new Date(justBefore.getTime() + 1)),
    ).rejects.toMatchObject({ code: 'MEDIA_ID_INVALID' });
    for (const id of ['../etc/passwd', 'short', 'x'.repeat(129), 'A'.repeat(43)])
      await expect(store.describe('wwcorpa', id)).rejects.toMatchObject({
        code: 'MEDIA_ID_INVALID',
      });
  });

  it('refuses bad types, extensions and sizes, storing nothing', async () => {
    const put = (type: string, filename: string, size: number) =>
      store.put('wwcorpa', {
        type: type as 'file',
        filename,
        bytes: Buffer.alloc(size, 7),
        uploader: 'u1',
      });
    await expect(put('sticker', 'a.png', 10)).rejects.toMatchObject({
      code: 'MEDIA_TYPE_INVALID',
    });
    await expect(put('image', 'a.gif', 10)).rejects.toMatchObject({
      code: 'MEDIA_FILE_TYPE_INVALID',
    });
    await expect(put('voice', 'a.mp3', 10)).rejects.toMatchObject({
      code: 'MEDIA_FILE_TYPE_INVALID',
    });
    await expect(put('file', 'a.txt', 5)).rejects.toMatchObject({
      code: 'MEDIA_SIZE_INVALID',
      status: 400,
    });
    await expect(put('file', 'a.txt', 65)).rejects.toMatchObject({
      code: 'MEDIA_SIZE_INVALID',
      status: 413,
    });
    await expect(put('file', 'a.txt', 64)).resolves.toMatchObject({ size: 64 });
  });
});
