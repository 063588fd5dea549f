import { ValidateBy } from 'class-validator';

/** An http or https URL. */
export const HTTP_URL = /^https?:\/\/\S+$/i;

/** At most `max` bytes of UTF-8 (WeCom counts its limits in bytes). */
export const MaxBytes = (max: number) =>
  ValidateBy({
    name: 'maxBytes',
    constraints: [max],
    validator: {
      validate: (value: unknown) =>
        typeof value !== 'string' || Buffer.byteLength(value, 'utf8') <= max,
      defaultMessage: (args) => `${args?.property ?? 'value'} must be at most ${max} UTF-8 bytes`,
    },
  });
