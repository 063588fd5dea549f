import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../logger';
import { ErrorCode } from '../protocol/error-codes';
import { makeRecordBatch } from '../../test/support/record-batch-builder';
import { PartitionLog, RetentionPolicy } from './partition-log';

const KEEP_ALL: RetentionPolicy = { segmentBytes: 1024 * 1024, maxBytes: -1, maxAgeMs: -1 };

function openLog(dir: string, retention: RetentionPolicy = KEEP_ALL): PartitionLog {
  return PartitionLog.open(dir, retention, silentLogger);
}

describe('PartitionLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partition-log-'));
  });

  it('assigns contiguous offsets by lastOffsetDelta + 1 and rewrites only baseOffset', () => {
    const log = openLog(dir);
    const batch = makeRecordBatch(5, 100);
    const original = Buffer.from(batch);
    expect(log.append(batch)).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(log.append(makeRecordBatch(3, 200))).toEqual({
      errorCode: ErrorCode.NONE,
      baseOffset: 5,
    });
    expect(log.logEndOffset).toBe(8);
    const read = log.read(6, 1 << 20, true);
    expect(read.records.readBigInt64BE(0)).toBe(5n);
    const first = log.read(0, 1 << 20, true).records;
    expect(first.subarray(8, original.length)).toEqual(original.subarray(8));
    log.close(true);
  });

  it('returns whole batches, at least one even over the byte limit, and none past the end', () => {
    const log = openLog(dir);
    log.append(makeRecordBatch(1, 1, 100));
    log.append(makeRecordBatch(1, 1, 100));
    expect(log.read(0, 10, true).records.length).toBe(161);
    expect(log.read(0, 10, false).records.length).toBe(0);
    expect(log.read(0, 1000, true).records.length).toBe(322);
    expect(log.read(2, 1000, true)).toEqual({
      errorCode: ErrorCode.NONE,
      records: Buffer.alloc(0),
    });
    expect(log.read(3, 1000, true).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    log.close(true);
  });

  it('rebuilds its index on reopen and truncates a torn tail', () => {
    const log = openLog(dir);
    for (let i = 0; i < 4; i++) log.append(makeRecordBatch(10, i));
    log.close(true);
    const [segment] = fs.readdirSync(dir);
    fs.appendFileSync(path.join(dir, segment), makeRecordBatch(10, 9).subarray(0, 30));
    const reopened = openLog(dir);
    expect(reopened.logEndOffset).toBe(40);
    expect(fs.statSync(path.join(dir, segment)).size).toBe(4 * 71);
    expect(reopened.append(makeRecordBatch(1, 1)).baseOffset).toBe(40);
    reopened.close(true);
  });

  it('rolls segments and deletes whole old ones by size, advancing the log start offset', () => {
    const log = openLog(dir, { segmentBytes: 1024, maxBytes: 2048, maxAgeMs: -1 });
    for (let i = 0; i < 20; i++) log.append(makeRecordBatch(5, Date.now(), 200)); // 261 B each, 3 per segment
    expect(log.segmentCount).toBe(7);
    log.applyRetention(Date.now());
    expect(log.sizeBytes).toBeLessThanOrEqual(2048 + 1024);
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.logStartOffset % 15).toBe(0); // a segment boundary: 3 batches of 5 records
    expect(log.read(0, 1 << 20, true).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(log.read(log.logStartOffset, 1 << 20, true).records.readBigInt64BE(0)).toBe(
      BigInt(log.logStartOffset),
    );
    const start = log.logStartOffset;
    log.close(true);
    expect(openLog(dir).logStartOffset).toBe(start);
  });

  it('deletes segments older than maxAge, including a quiet active segment', () => {
    const now = Date.now();
    const log = openLog(dir, { segmentBytes: 1024, maxBytes: -1, maxAgeMs: 60_000 });
    for (let i = 0; i < 6; i++) log.append(makeRecordBatch(1, now - 120_000, 200));
    log.applyRetention(now);
    expect(log.logStartOffset).toBe(6);
    expect(log.logEndOffset).toBe(6);
    expect(log.append(makeRecordBatch(1, now)).baseOffset).toBe(6);
    log.close(true);
  });
});
