import { ApiVersionRange } from '../protocol/api-keys';
import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: readonly ApiVersionRange[];
}

/** v0–v2 bodies are empty; v3 carries client software name/version we have no use for. */
export function decodeApiVersionsRequest(reader: Reader, version: number): void {
  if (version >= 3) {
    reader.compactNullableString();
    reader.compactNullableString();
    reader.skipTaggedFields();
  }
}

/** Always answered with response header v0, even for flexible v3 (the Kafka exception clients rely on). */
export function encodeApiVersionsResponse(
  w: Writer,
  version: number,
  res: ApiVersionsResponse,
): void {
  w.int16(res.errorCode);
  if (version >= 3) {
    w.compactArray(res.apiKeys, (x, k) => {
      x.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion).emptyTaggedFields();
    });
    w.int32(0).emptyTaggedFields();
    return;
  }
  w.array(res.apiKeys, (x, k) => {
    x.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion);
  });
  if (version >= 1) w.int32(0);
}
