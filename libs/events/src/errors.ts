/**
 * How the consumer runner treats a failure. Poison and non-retriable failures go to the
 * dead-letter topic at once; anything else is retried with backoff a bounded number of times.
 */
export class NonRetriableEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The record itself is unusable: missing CloudEvents headers, unknown type, invalid payload. */
export class PoisonMessageError extends NonRetriableEventError {}

/** True for errors that retrying cannot fix (bad input, a domain rule refusing the event). */
export function isNonRetriable(error: unknown): boolean {
  if (error instanceof NonRetriableEventError) return true;
  // Domain refusals (DomainException from @qiwei/platform, 4xx-like) will refuse again.
  const status = (error as { status?: unknown }).status;
  const code = (error as { code?: unknown }).code;
  return typeof status === 'number' && status >= 400 && status < 500 && typeof code === 'string';
}
