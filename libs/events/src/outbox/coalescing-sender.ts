import type { Producer, TopicMessages } from 'kafkajs';

interface Queued {
  topicMessages: TopicMessages[];
  records: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The relay's lanes send through one idempotent producer that has one request in flight (strict
 * order per partition), so a lane's batch that comes while another is being acknowledged waits
 * for it anyway. Instead of then going alone, the batches that waited go together, as one
 * produce request (acks=all), as long as they hold at most `maxRecords` records between them:
 * at a steady rate the lanes' small batches cost one request and one acknowledgement instead of
 * one each, and commits are published sooner; under a backlog each full batch still goes alone,
 * so requests stay as large as they were.
 *
 * Each caller's promise resolves once Kafka acknowledged its batch. When a request of several
 * batches fails, each is sent again alone, and a caller's promise is rejected only when its own
 * batch fails alone (its lane then sends it again later, as before): one lane's failure never
 * holds the others. Order holds: a lane awaits its batch before it sends the next, and batches
 * leave in the order they came, each one's records in order.
 */
export class CoalescingSender {
  private readonly queue: Queued[] = [];
  private sending = false;
  /** Produce requests sent, and batches they carried (for tests and diagnostics). */
  requests = 0;
  batches = 0;

  constructor(
    private readonly producer: Pick<Producer, 'sendBatch'>,
    private readonly maxRecords: number,
  ) {}

  send(topicMessages: TopicMessages[]): Promise<void> {
    let records = 0;
    for (const topic of topicMessages) records += topic.messages.length;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topicMessages, records, resolve, reject });
      if (!this.sending) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        this.requests += 1;
        this.batches += group.length;
        try {
          await this.producer.sendBatch({
            topicMessages:
              group.length === 1 ? group[0].topicMessages : group.flatMap((q) => q.topicMessages),
            acks: -1,
          });
        } catch (error) {
          if (group.length === 1) group[0].reject(error);
          // One lane's failure (a topic that is missing, a record too large) must not hold the
          // lanes it was sent with: each batch is tried again alone, in order, and only a batch
          // that fails alone fails. A record of the failed request may already be written; it
          // is sent again, as any failed batch is (at least once).
          else for (const queued of group) await this.sendAlone(queued);
          continue;
        }
        for (const queued of group) queued.resolve();
      }
    } finally {
      this.sending = false;
    }
  }

  private async sendAlone(queued: Queued): Promise<void> {
    this.requests += 1;
    try {
      await this.producer.sendBatch({ topicMessages: queued.topicMessages, acks: -1 });
    } catch (error) {
      queued.reject(error);
      return;
    }
    queued.resolve();
  }

  /** The oldest waiting batch, and those after it while the request stays within maxRecords. */
  private takeGroup(): Queued[] {
    let count = 1;
    let records = this.queue[0].records;
    while (count < this.queue.length && records + this.queue[count].records <= this.maxRecords) {
      records += this.queue[count].records;
      count += 1;
    }
    return this.queue.splice(0, count);
  }
}
