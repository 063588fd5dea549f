import { usesFlexibleRequestHeader } from './api-keys';
import { Reader } from './reader';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Header v1, or v2 for flexible requests; client_id keeps its int16 length in both. */
export function decodeRequestHeader(reader: Reader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  if (usesFlexibleRequestHeader(apiKey, apiVersion)) reader.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId };
}
