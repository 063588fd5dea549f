import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import { ObjectStorage } from '@qiwei/storage';
import { WecomMediaNotFoundException, WecomMediaStore, type WecomMedia } from '@qiwei/wecom';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';

/**
 * WeCom's temporary media as the batch jobs read it: messaging's media/upload stores the CSV in
 * the shared bucket (WECOM_MEDIA_BUCKET), identity finds it by media_id under the caller's corp.
 * Identity never writes there; a bucket nobody has created yet simply holds no media.
 */
@Injectable()
export class BatchMedia {
  private readonly store: WecomMediaStore;

  constructor(storage: ObjectStorage, @Inject(IDENTITY_CONFIG) config: IdentityConfig) {
    this.store = new WecomMediaStore(storage, { bucket: config.WECOM_MEDIA_BUCKET });
  }

  /** The media's description; 40007 when unknown, expired or another corp's. */
  describe(corpId: CorpId, mediaId: string): Promise<WecomMedia> {
    return this.missingBucketIsNoMedia(mediaId, () => this.store.describe(corpId, mediaId));
  }

  /** The media's bytes, which must still be those the job was submitted with. */
  async read(corpId: CorpId, mediaId: string, sha256: string): Promise<Buffer> {
    const { bytes } = await this.missingBucketIsNoMedia(mediaId, () =>
      this.store.read(corpId, mediaId),
    );
    if (createHash('sha256').update(bytes).digest('hex') !== sha256)
      throw new WecomMediaNotFoundException(mediaId);
    return bytes;
  }

  private async missingBucketIsNoMedia<T>(mediaId: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchBucket')
        throw new WecomMediaNotFoundException(mediaId);
      throw error;
    }
  }
}
