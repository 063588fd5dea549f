import { FetchPartitionResponse, FetchRequest, FetchResponse } from '../codecs/fetch.codec';
import { ErrorCode } from '../protocol/error-codes';
import { TopicStore } from '../storage/topic-store';

const EMPTY = Buffer.alloc(0);

/**
 * Fetch with long polling: answered at once when minBytes are available or a partition is in
 * error, otherwise parked until an append to one of its partitions makes enough bytes available
 * or maxWait expires (kafkajs gives up at maxWait + 100 ms, so the deadline is exact).
 *
 * A parked fetch is checked once the produce request that appended has appended all of its
 * partitions (a microtask after the append, as Kafka completes delayed fetches after the whole
 * request's local append): one produce request to several partitions wakes a consumer with all
 * of them in one response, not with its first partition alone and the rest a fetch later.
 */
export class FetchHandler {
  private readonly parked = new Set<() => void>();

  constructor(private readonly topics: TopicStore) {}

  fetch(req: FetchRequest, apiVersion: number): FetchResponse | Promise<FetchResponse> {
    if (req.maxWaitMs <= 0 || this.ready(req)) return this.build(req, apiVersion);
    return new Promise((resolve) => {
      const unsubscribes: (() => void)[] = [];
      let finished = false;
      let checkQueued = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        for (const u of unsubscribes) u();
        this.parked.delete(finish);
        resolve(this.build(req, apiVersion));
      };
      const check = (): void => {
        if (checkQueued || finished) return;
        checkQueued = true;
        queueMicrotask(() => {
          checkQueued = false;
          if (!finished && this.ready(req)) finish();
        });
      };
      const timer = setTimeout(finish, req.maxWaitMs);
      this.parked.add(finish);
      for (const t of req.topics) {
        for (const p of t.partitions) {
          const log = this.topics.partition(t.topic, p.partition);
          if (log) unsubscribes.push(log.onAppend(check));
        }
      }
    });
  }

  /** Answers every parked fetch now (shutdown). */
  releaseAll(): void {
    for (const finish of [...this.parked]) finish();
  }

  private ready(req: FetchRequest): boolean {
    let available = 0;
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const log = this.topics.partition(t.topic, p.partition);
        if (!log || log.isClosed) return true;
        if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset) return true;
        available += log.availableBytes(p.fetchOffset);
      }
    }
    return available >= Math.max(req.minBytes, 1);
  }

  private build(req: FetchRequest, apiVersion: number): FetchResponse {
    let budget = req.maxBytes;
    return {
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p): FetchPartitionResponse => {
          const log = this.topics.partition(t.topic, p.partition);
          if (!log || log.isClosed) {
            return {
              partitionIndex: p.partition,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              highWatermark: -1,
              logStartOffset: -1,
              records: EMPTY,
            };
          }
          const base = {
            partitionIndex: p.partition,
            highWatermark: log.logEndOffset,
            logStartOffset: log.logStartOffset,
          };
          // v0–v3 consumers expect the old MessageSet format; we store only RecordBatch v2.
          if (apiVersion < 4)
            return { ...base, errorCode: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, records: EMPTY };
          // Every partition gets at least one batch while the response has budget left, even one larger
          // than partitionMaxBytes (KIP-74); otherwise a big batch would stall its partition forever.
          const limit = Math.max(0, Math.min(p.partitionMaxBytes, budget));
          const result = log.read(p.fetchOffset, limit, budget > 0);
          budget -= result.records.length;
          return { ...base, errorCode: result.errorCode, records: result.records };
        }),
      })),
    };
  }
}
