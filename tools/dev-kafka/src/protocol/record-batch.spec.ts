import { makeRecordBatch } from '../../test/support/record-batch-builder';
import { crc32c } from './crc32c';
import { RECORD_BATCH_HEADER_SIZE, scanRecordBatches } from './record-batch';

describe('crc32c', () => {
  it('matches the Castagnoli check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xe3069283);
  });
});

describe('scanRecordBatches', () => {
  it('walks consecutive batches and reads their header fields', () => {
    const scan = scanRecordBatches(
      Buffer.concat([makeRecordBatch(3, 1000), makeRecordBatch(1, 2000, 30)]),
    );
    expect(scan.ok).toBe(true);
    expect(scan.batches.map((b) => [b.position, b.lastOffsetDelta, b.maxTimestamp])).toEqual([
      [0, 2, 1000],
      [71, 0, 2000],
    ]);
  });

  it('reports where a torn or corrupt batch starts', () => {
    const good = makeRecordBatch(2, 1);
    const torn = scanRecordBatches(Buffer.concat([good, makeRecordBatch(2, 1).subarray(0, 40)]));
    expect(torn).toMatchObject({
      ok: false,
      validUpTo: good.length,
      reason: 'truncated batch header',
    });
    const flipped = makeRecordBatch(2, 1);
    flipped[RECORD_BATCH_HEADER_SIZE + 1] ^= 0xff;
    expect(scanRecordBatches(flipped)).toMatchObject({
      ok: false,
      validUpTo: 0,
      reason: 'crc mismatch',
    });
  });
});
