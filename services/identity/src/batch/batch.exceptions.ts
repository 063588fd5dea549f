import { DomainException, NotFoundException } from '@qiwei/platform';

/** The CSV cannot be read as the template (WeCom errcode 40092): the job fails, changing nothing. */
export class BatchFileInvalidException extends DomainException {
  constructor(reason: string) {
    super('BATCH_FILE_INVALID', 422, `The file is not the batch template: ${reason}`);
  }
}

/** A media id of another type than `file` (WeCom errcode 40004). */
export class BatchMediaNotAFileException extends DomainException {
  constructor(type: string) {
    super(
      'BATCH_MEDIA_NOT_A_FILE',
      422,
      `The media is a ${type}; upload the CSV with media/upload?type=file.`,
    );
  }
}

/** Larger than IMPORT_MAX_FILE_BYTES (WeCom errcode 40006): no job is created. */
export class BatchFileTooLargeException extends DomainException {
  constructor(size: number, limit: number) {
    super(
      'BATCH_FILE_TOO_LARGE',
      413,
      `The file has ${size} bytes; a batch job reads at most ${limit}. Split it.`,
    );
  }
}

/** Unknown jobid, or another corp's (WeCom errcode 40088). */
export class BatchJobNotFoundException extends NotFoundException {
  constructor(jobid: string) {
    super('BATCH_JOB_NOT_FOUND', `There is no batch job "${jobid.slice(0, 64)}" in this corp.`);
  }
}

/**
 * replace_user would delete too large a share of the members in the caller's range (WeCom's
 * protection, errcode 45026): the job stops before changing anything.
 */
export class BatchDeleteProtectionException extends DomainException {
  constructor(deleting: number, existing: number) {
    super(
      'BATCH_DELETE_PROTECTION',
      409,
      `The file would delete ${deleting} of the ${existing} members in range; the import was stopped (see BATCH_REPLACE_DELETE_* settings).`,
    );
  }
}

/** A job whose every attempt crashed its worker (WeCom errcode 302005). */
export class BatchJobGaveUpException extends DomainException {
  constructor(attempts: number) {
    super(
      'BATCH_JOB_GAVE_UP',
      500,
      `The job failed ${attempts} times and was given up; submit it again.`,
    );
  }
}
