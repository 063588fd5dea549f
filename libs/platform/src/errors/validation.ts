import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ValidationFailedException, type FieldError } from './domain.exception';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([code, message]) => ({
      field,
      code,
      message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * A DTO's fast path: the DTO instance for input it recognises as valid, or undefined for
 * anything else (which then goes through class-validator, the one source of errors).
 */
export type FastValidation<T> = (value: unknown) => T | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- keyed by any DTO class
const fastPaths = new Map<abstract new (...args: any[]) => unknown, FastValidation<unknown>>();

/**
 * Registers a fast path for a DTO on a hot endpoint: class-transformer and class-validator cost
 * tens of microseconds per request, a hand-written check of the common shapes a fraction of it.
 * It must accept only what the DTO's decorators accept and return what `plainToInstance` would
 * (an instance of the class with the input's properties); it may decline anything (a spec
 * should compare it with class-validator on valid and invalid input).
 */
export function registerFastValidation<T>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any DTO class
  dto: abstract new (...args: any[]) => T,
  accept: FastValidation<T>,
): void {
  fastPaths.set(dto, accept);
}

/** The global pipe: a DTO's fast path when it has one and accepts the input; class-validator otherwise. */
class DtoValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const fast = metadata.metatype ? fastPaths.get(metadata.metatype)?.(value) : undefined;
    if (fast !== undefined) return fast;
    return super.transform(value, metadata);
  }
}

/**
 * DTO validation: unknown fields are refused, types converted, failures listed per field.
 * `fastPaths: false` leaves class-validator alone (what a fast path is compared with).
 */
export function createValidationPipe(options: { fastPaths?: boolean } = {}): ValidationPipe {
  return new (options.fastPaths === false ? ValidationPipe : DtoValidationPipe)({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => new ValidationFailedException(flatten(errors)),
  });
}
