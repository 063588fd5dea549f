import type { JsonSchema, JsonType } from '../../src/proto-json-schema';

/**
 * A validator for exactly the JSON Schema keywords the generator emits. The workspace has no
 * JSON Schema validator among its own dependencies, and this one is small enough to read;
 * `$ref`s are resolved against `components.schemas`.
 */
export function validateJsonSchema(
  value: unknown,
  schema: JsonSchema,
  schemas: Readonly<Record<string, JsonSchema>>,
  path = '$',
): string[] {
  if (schema.$ref !== undefined) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : schemas[name];
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    return validateJsonSchema(value, target, schemas, path);
  }
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types: readonly JsonType[] =
      typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((type) => hasType(value, type))) {
      return [`${path}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`];
    }
  }
  if (
    schema.anyOf &&
    !schema.anyOf.some((s) => validateJsonSchema(value, s, schemas).length === 0)
  ) {
    errors.push(`${path}: matches none of anyOf`);
  }
  if (schema.const !== undefined && value !== schema.const) {
    errors.push(`${path}: expected ${schema.const}`);
  }
  if (schema.enum && !schema.enum.some((member) => member === value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  }
  if (typeof value === 'string') errors.push(...stringErrors(value, schema, path));
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: too small`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: too large`);
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((item, i) => {
      errors.push(...validateJsonSchema(item, items, schemas, `${path}[${i}]`));
    });
  }
  if (isObject(value)) errors.push(...objectErrors(value, schema, schemas, path));
  return errors;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function stringErrors(value: string, schema: JsonSchema, path: string): string[] {
  const errors: string[] = [];
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    errors.push(`${path}: shorter than ${schema.minLength}`);
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    errors.push(`${path}: ${value} does not match ${schema.pattern}`);
  }
  if (schema.format === 'date-time' && !RFC3339.test(value)) {
    errors.push(`${path}: ${value} is not an RFC 3339 date-time`);
  }
  if (schema.contentEncoding === 'base64' && !BASE64.test(value)) {
    errors.push(`${path}: ${value} is not base64`);
  }
  return errors;
}

function objectErrors(
  value: Record<string, unknown>,
  schema: JsonSchema,
  schemas: Readonly<Record<string, JsonSchema>>,
  path: string,
): string[] {
  const errors: string[] = [];
  for (const name of schema.required ?? []) {
    if (!(name in value)) errors.push(`${path}: missing required ${name}`);
  }
  for (const [name, member] of Object.entries(value)) {
    const declared = schema.properties?.[name];
    const extra = schema.additionalProperties;
    if (declared) errors.push(...validateJsonSchema(member, declared, schemas, `${path}.${name}`));
    else if (extra === false) errors.push(`${path}: unexpected ${name}`);
    else if (typeof extra === 'object') {
      errors.push(...validateJsonSchema(member, extra, schemas, `${path}.${name}`));
    }
  }
  return errors;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
  }
}
