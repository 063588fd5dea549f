import { crc32c } from './crc32c';

/** Size of the RecordBatch v2 header up to and including recordCount. */
export const RECORD_BATCH_HEADER_SIZE = 61;
const LENGTH_OVERHEAD = 12; // baseOffset (8) + batchLength (4) are not counted in batchLength
const CRC_START = 21; // the CRC covers attributes..end; baseOffset is outside it, so we may rewrite it

export interface RecordBatchInfo {
  /** Byte position of the batch inside the buffer it was found in. */
  position: number;
  size: number;
  lastOffsetDelta: number;
  recordCount: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export type BatchScan =
  | { ok: true; batches: RecordBatchInfo[] }
  | { ok: false; validUpTo: number; reason: string; batches: RecordBatchInfo[] };

/**
 * Walks consecutive RecordBatch v2 entries. Stops at the first entry that is short, not magic 2,
 * inconsistent or fails its CRC, reporting how many leading bytes were valid: produce rejects
 * the request, recovery truncates the log there.
 */
export function scanRecordBatches(buf: Buffer, verifyCrc = true): BatchScan {
  const batches: RecordBatchInfo[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const fail = (reason: string): BatchScan => ({ ok: false, validUpTo: pos, reason, batches });
    if (buf.length - pos < RECORD_BATCH_HEADER_SIZE) return fail('truncated batch header');
    const batchLength = buf.readInt32BE(pos + 8);
    const size = batchLength + LENGTH_OVERHEAD;
    if (batchLength < RECORD_BATCH_HEADER_SIZE - LENGTH_OVERHEAD)
      return fail(`bad batch length ${batchLength}`);
    if (pos + size > buf.length) return fail('truncated batch body');
    const magic = buf.readInt8(pos + 16);
    if (magic !== 2) return fail(`unsupported magic ${magic}`);
    if (verifyCrc && buf.readUInt32BE(pos + 17) !== crc32c(buf, pos + CRC_START, pos + size)) {
      return fail('crc mismatch');
    }
    const lastOffsetDelta = buf.readInt32BE(pos + 23);
    const recordCount = buf.readInt32BE(pos + 57);
    if (lastOffsetDelta < 0 || recordCount < 0) return fail('negative record count');
    batches.push({
      position: pos,
      size,
      lastOffsetDelta,
      recordCount,
      maxTimestamp: Number(buf.readBigInt64BE(pos + 35)),
      producerId: Number(buf.readBigInt64BE(pos + 43)),
      producerEpoch: buf.readInt16BE(pos + 51),
      baseSequence: buf.readInt32BE(pos + 53),
    });
    pos += size;
  }
  return { ok: true, batches };
}

export function readBaseOffset(buf: Buffer, position: number): number {
  return Number(buf.readBigInt64BE(position));
}

export function writeBaseOffset(buf: Buffer, position: number, baseOffset: number): void {
  buf.writeBigInt64BE(BigInt(baseOffset), position);
}
