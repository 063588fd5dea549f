let counter = 0;

/** A value unique within the test run, readable in failures: `prefix-<pid>-<n>`. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
