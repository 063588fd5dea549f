import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ObjectStorage } from '@qiwei/storage';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';

/**
 * The archive's own bucket (`ARCHIVE_BUCKET`): copies of message media and signed chain heads.
 * Created at start if missing; in production it is made beforehand with object lock (README).
 */
@Injectable()
export class ArchiveStorage implements OnModuleInit {
  readonly objects: ObjectStorage;
  readonly bucket: string;

  constructor(@Inject(COMPLIANCE_CONFIG) config: ComplianceConfig) {
    this.objects = new ObjectStorage(config);
    this.bucket = config.ARCHIVE_BUCKET;
  }

  async onModuleInit(): Promise<void> {
    await this.objects.ensureBucket(this.bucket);
  }
}
