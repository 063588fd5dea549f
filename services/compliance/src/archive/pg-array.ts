/**
 * A PostgreSQL array literal of texts (`{"a","b\"c"}`): every element quoted, `"` and `\`
 * escaped, null as NULL. Bulk statements pass one such literal per row for columns that are
 * arrays themselves (participants, mentions), since `unnest` cannot take ragged 2-D arrays.
 */
export function pgTextArray(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i) out += ',';
    const v = values[i];
    out += v === null ? 'NULL' : `"${v.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

/** A PostgreSQL array literal of integers (`{1,2,3}`). */
export function pgIntArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}
