import { Injectable, type PipeTransform } from '@nestjs/common';
import { ValidationFailedException } from '@qiwei/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A `:id` that is a UUID (conversations, rules, alerts); anything else is a field error. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) {
      throw new ValidationFailedException([
        { field: 'id', code: 'ID_INVALID', message: 'id must be a UUID' },
      ]);
    }
    return value.toLowerCase();
  }
}
