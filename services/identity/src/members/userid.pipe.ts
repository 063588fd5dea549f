import { Injectable, type PipeTransform } from '@nestjs/common';
import { ValidationFailedException } from '@qiwei/platform';
import { USERID_PATTERN } from '../corps/dto/corp.dto';

/** A `:userid` path parameter: 1–64 of A–Z a–z 0–9 _ @ . -, anything else is a field error. */
@Injectable()
export class UseridPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!USERID_PATTERN.test(value)) {
      throw new ValidationFailedException([
        {
          field: 'userid',
          code: 'USERID_INVALID',
          message: 'userid must be 1–64 of A-Z a-z 0-9 _ @ . -',
        },
      ]);
    }
    return value;
  }
}
