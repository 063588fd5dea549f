import { Injectable, type PipeTransform, type ArgumentMetadata } from '@nestjs/common';
import { ValidationFailedException } from '../errors/domain.exception';

/** Path/query integers such as department ids: 1 … 2^31-1, anything else is a field error. */
@Injectable()
export class PositiveIntPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 2_147_483_647) {
      const field = metadata.data ?? 'value';
      throw new ValidationFailedException([
        {
          field,
          code: 'isPositiveInt',
          message: `${field} must be an integer between 1 and 2147483647`,
        },
      ]);
    }
    return n;
  }
}
