import { crc32c } from '../../src/protocol/crc32c';
import { RECORD_BATCH_HEADER_SIZE } from '../../src/protocol/record-batch';

/** A RecordBatch v2 whose records section is opaque filler: the broker never parses records. */
export function makeRecordBatch(
  recordCount: number,
  maxTimestamp: number,
  fillerBytes = 10,
): Buffer {
  const buf = Buffer.alloc(RECORD_BATCH_HEADER_SIZE + fillerBytes, 0x2a);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(0, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(0, 21);
  buf.writeInt32BE(recordCount - 1, 23);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(-1n, 43);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(recordCount, 57);
  buf.writeUInt32BE(crc32c(buf, 21), 17);
  return buf;
}
