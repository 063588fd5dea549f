import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode } from '../protocol/error-codes';
import { readBaseOffset, scanRecordBatches, writeBaseOffset } from '../protocol/record-batch';
import { DevKafkaLogger } from '../logger';
import { CoalescedFlush } from './coalesced-flush';
import { fsyncAsync, fsyncDirSync } from './fs-durable';

export interface RetentionPolicy {
  /** Roll to a new segment file once the active one would exceed this size. */
  segmentBytes: number;
  /** Delete whole old segments while the partition stays above this size; -1 keeps everything. */
  maxBytes: number;
  /** Delete segments whose newest record is older than this; -1 keeps everything. */
  maxAgeMs: number;
}

interface BatchEntry {
  baseOffset: number;
  lastOffset: number;
  position: number;
  size: number;
  maxTimestamp: number;
}

interface Segment {
  baseOffset: number;
  file: string;
  fd: number;
  size: number;
  batches: BatchEntry[];
}

export type AppendResult =
  | { errorCode: typeof ErrorCode.NONE; baseOffset: number }
  | { errorCode: ErrorCode; baseOffset: -1 };

export interface ReadResult {
  errorCode: ErrorCode;
  records: Buffer;
}

const SEGMENT_SUFFIX = '.log';

function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

function lastOf<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

/**
 * One partition: append-only segment files of raw RecordBatch v2 bytes (baseOffset rewritten),
 * named by their first offset like Kafka's, with the batch index kept in memory and rebuilt by
 * scanning on open. Writes are synchronous so that the bytes are in the kernel before the
 * produce is acknowledged; fsync is asynchronous and group-committed (see flush()).
 */
export class PartitionLog {
  private readonly segments: Segment[] = [];
  private readonly flusher: CoalescedFlush;
  private readonly appendListeners = new Set<() => void>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly retention: RetentionPolicy,
    private readonly logger: DevKafkaLogger,
  ) {
    this.flusher = new CoalescedFlush(() =>
      this.closed ? Promise.resolve() : fsyncAsync(this.active.fd),
    );
  }

  /** Opens (or creates) the partition directory and recovers from a torn tail left by a crash. */
  static open(dir: string, retention: RetentionPolicy, logger: DevKafkaLogger): PartitionLog {
    fs.mkdirSync(dir, { recursive: true });
    const log = new PartitionLog(dir, retention, logger);
    log.recover();
    return log;
  }

  get logStartOffset(): number {
    return this.segments[0].baseOffset;
  }

  /** Log-end offset; with one replica and no transactions it is also the high watermark. */
  get logEndOffset(): number {
    const seg = this.active;
    const last = lastOf(seg.batches);
    return last ? last.lastOffset + 1 : seg.baseOffset;
  }

  get sizeBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.size, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  private get active(): Segment {
    const seg = lastOf(this.segments);
    if (!seg) throw new Error(`partition log ${this.dir} has no segment`);
    return seg;
  }

  private recover(): void {
    const names = fs
      .readdirSync(this.dir)
      .filter((n) => /^\d{20}\.log$/.test(n))
      .sort();
    let expectedNext: number | null = null;
    let truncated = false;
    for (const name of names) {
      const file = path.join(this.dir, name);
      if (truncated) {
        // Everything after a torn or corrupt point is unreachable: offsets must stay contiguous.
        fs.unlinkSync(file);
        this.logger.warn(`dev-kafka: removed segment ${file} after a truncated predecessor`);
        continue;
      }
      const baseOffset = Number(name.slice(0, 20));
      const data = fs.readFileSync(file);
      const scan = scanRecordBatches(data, true);
      const batches: BatchEntry[] = [];
      let next: number = expectedNext ?? baseOffset;
      let validUpTo = scan.ok ? data.length : scan.validUpTo;
      for (const b of scan.batches) {
        const batchBase = readBaseOffset(data, b.position);
        if (batchBase !== next) {
          validUpTo = b.position;
          break;
        }
        batches.push({
          baseOffset: batchBase,
          lastOffset: batchBase + b.lastOffsetDelta,
          position: b.position,
          size: b.size,
          maxTimestamp: b.maxTimestamp,
        });
        next = batchBase + b.lastOffsetDelta + 1;
      }
      if (validUpTo < data.length) {
        this.logger.warn(
          `dev-kafka: truncating ${file} from ${data.length} to ${validUpTo} bytes (${scan.ok ? 'offset gap' : scan.reason})`,
        );
        fs.truncateSync(file, validUpTo);
        truncated = true;
      }
      const fd = fs.openSync(file, 'a+');
      this.segments.push({
        baseOffset: batches[0]?.baseOffset ?? next,
        file,
        fd,
        size: validUpTo,
        batches,
      });
      expectedNext = next;
    }
    if (this.segments.length === 0) this.createSegment(0);
  }

  private createSegment(baseOffset: number): void {
    const file = path.join(this.dir, segmentFileName(baseOffset));
    const fd = fs.openSync(file, 'a+');
    fsyncDirSync(this.dir);
    this.segments.push({ baseOffset, file, fd, size: 0, batches: [] });
  }

  private roll(): void {
    const old = this.active;
    // The old segment is never written again: make it durable now, acks=1 data included.
    fs.fsyncSync(old.fd);
    this.createSegment(this.logEndOffset);
  }

  /**
   * Appends the producer's batches. `records` is modified in place (baseOffset only; the CRC does
   * not cover it), so the caller must not reuse the buffer.
   */
  append(records: Buffer): AppendResult {
    if (this.closed) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1 };
    const scan = scanRecordBatches(records, true);
    if (!scan.ok) {
      this.logger.warn(`dev-kafka: rejected produce to ${this.dir}: ${scan.reason}`);
      return { errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 };
    }
    if (scan.batches.length === 0) return { errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 };
    if (this.active.size > 0 && this.active.size + records.length > this.retention.segmentBytes)
      this.roll();
    const seg = this.active;
    const firstOffset = this.logEndOffset;
    let next = firstOffset;
    const entries: BatchEntry[] = [];
    for (const b of scan.batches) {
      writeBaseOffset(records, b.position, next);
      entries.push({
        baseOffset: next,
        lastOffset: next + b.lastOffsetDelta,
        position: seg.size + b.position,
        size: b.size,
        maxTimestamp: b.maxTimestamp,
      });
      next += b.lastOffsetDelta + 1;
    }
    let written = 0;
    while (written < records.length)
      written += fs.writeSync(seg.fd, records, written, records.length - written);
    seg.size += records.length;
    for (const e of entries) seg.batches.push(e);
    for (const listener of this.appendListeners) listener();
    return { errorCode: ErrorCode.NONE, baseOffset: firstOffset };
  }

  /** Resolves once everything appended before the call is on stable storage. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /**
   * Whole batches starting with the one that contains `offset`, up to `maxBytes`; the first batch
   * is returned even when larger if `mustReturnOne`, or consumers would never get past it.
   */
  read(offset: number, maxBytes: number, mustReturnOne: boolean): ReadResult {
    const empty = Buffer.alloc(0);
    if (offset < this.logStartOffset || offset > this.logEndOffset) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: empty };
    }
    if (offset === this.logEndOffset) return { errorCode: ErrorCode.NONE, records: empty };
    let segIndex = this.findSegment(offset);
    let batchIndex = -1;
    while (segIndex < this.segments.length) {
      batchIndex = firstBatchEndingAtOrAfter(this.segments[segIndex].batches, offset);
      if (batchIndex >= 0) break;
      segIndex++;
    }
    if (batchIndex < 0) return { errorCode: ErrorCode.NONE, records: empty };
    const seg = this.segments[segIndex];
    const first = seg.batches[batchIndex];
    if (first.size > maxBytes && !mustReturnOne)
      return { errorCode: ErrorCode.NONE, records: empty };
    let total = first.size;
    for (
      let i = batchIndex + 1;
      i < seg.batches.length && total + seg.batches[i].size <= maxBytes;
      i++
    ) {
      total += seg.batches[i].size;
    }
    const out = Buffer.allocUnsafe(total);
    let read = 0;
    while (read < total) {
      const n = fs.readSync(seg.fd, out, read, total - read, first.position + read);
      if (n === 0) throw new Error(`short read in ${seg.file}`);
      read += n;
    }
    return { errorCode: ErrorCode.NONE, records: out };
  }

  /** Bytes a fetch at `offset` could return right now, without reading them. */
  availableBytes(offset: number): number {
    if (offset < this.logStartOffset || offset >= this.logEndOffset) return 0;
    let total = 0;
    for (let s = this.findSegment(offset); s < this.segments.length; s++) {
      const seg = this.segments[s];
      const i = firstBatchEndingAtOrAfter(seg.batches, offset);
      if (i >= 0) total += seg.size - seg.batches[i].position;
    }
    return total;
  }

  /**
   * The first batch whose newest record is at or after `timestamp` (batch granularity: the client
   * skips earlier records of that batch), or offset -1 if none.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } {
    for (const seg of this.segments) {
      for (const b of seg.batches) {
        if (b.maxTimestamp >= timestamp) return { offset: b.baseOffset, timestamp: b.maxTimestamp };
      }
    }
    return { offset: -1, timestamp: -1 };
  }

  /** Deletes whole segments past the size or age limit; the log start offset moves to the next segment. */
  applyRetention(now: number): number {
    const { maxAgeMs, maxBytes } = this.retention;
    const expired = (seg: Segment): boolean =>
      maxAgeMs >= 0 &&
      seg.batches.length > 0 &&
      now - Math.max(...seg.batches.map((b) => b.maxTimestamp)) > maxAgeMs;
    // An expired active segment is rolled first, so a quiet topic still ages out.
    if (expired(this.active)) this.roll();
    let deleted = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0];
      const overSize = maxBytes >= 0 && this.sizeBytes - oldest.size >= maxBytes;
      if (!overSize && !expired(oldest)) break;
      this.segments.shift();
      fs.closeSync(oldest.fd);
      fs.unlinkSync(oldest.file);
      deleted++;
    }
    if (deleted > 0) {
      fsyncDirSync(this.dir);
      this.logger.info(
        `dev-kafka: retention deleted ${deleted} segment(s) in ${this.dir}, log start ${this.logStartOffset}`,
      );
    }
    return deleted;
  }

  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Flushes and closes the files; later appends are refused. */
  close(sync: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) {
      if (sync && seg === this.active) fs.fsyncSync(seg.fd);
      fs.closeSync(seg.fd);
    }
    for (const listener of this.appendListeners) listener();
    this.appendListeners.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private findSegment(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function firstBatchEndingAtOrAfter(batches: BatchEntry[], offset: number): number {
  let lo = 0;
  let hi = batches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (batches[mid].lastOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < batches.length ? lo : -1;
}
