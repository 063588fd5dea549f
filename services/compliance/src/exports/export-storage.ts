import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ObjectStorage } from '@qiwei/storage';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../config';

/** The objects exports read (archived media) and write (parts, bundles in EXPORT_BUCKET). */
@Injectable()
export class ExportStorage implements OnModuleInit {
  readonly objects: ObjectStorage;
  readonly bucket: string;

  constructor(@Inject(COMPLIANCE_CONFIG) config: ComplianceConfig) {
    this.objects = new ObjectStorage(config);
    this.bucket = config.EXPORT_BUCKET;
  }

  async onModuleInit(): Promise<void> {
    await this.objects.ensureBucket(this.bucket);
  }
}
