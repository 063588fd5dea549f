import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoalescedFlush } from './coalesced-flush';
import { writeFileAtomic } from './fs-durable';

export interface CommittedOffset {
  offset: number;
  metadata: string | null;
}

interface OffsetsFile {
  version: 1;
  groups: Record<string, Record<string, Record<string, CommittedOffset>>>;
}

/**
 * Committed offsets per group/topic/partition, kept in memory and saved as one JSON snapshot
 * (temp file + fsync + rename). Commits arriving while a save runs share the next save.
 */
export class OffsetStore {
  private readonly groups = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  private readonly file: string;
  private readonly saver: CoalescedFlush;

  constructor(private readonly dataDir: string) {
    this.file = path.join(dataDir, 'consumer-offsets.json');
    this.saver = new CoalescedFlush(() =>
      writeFileAtomic(this.file, this.serialize(), this.dataDir),
    );
  }

  load(): void {
    if (!fs.existsSync(this.file)) return;
    const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as OffsetsFile;
    for (const [group, topics] of Object.entries(parsed.groups)) {
      for (const [topic, partitions] of Object.entries(topics)) {
        for (const [partition, committed] of Object.entries(partitions)) {
          this.set(group, topic, Number(partition), committed);
        }
      }
    }
  }

  set(group: string, topic: string, partition: number, committed: CommittedOffset): void {
    let topics = this.groups.get(group);
    if (!topics) this.groups.set(group, (topics = new Map<string, Map<number, CommittedOffset>>()));
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = new Map<number, CommittedOffset>()));
    partitions.set(partition, committed);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(group)?.get(topic)?.get(partition);
  }

  /** Every committed partition of a group, by topic. */
  forGroup(group: string): Map<string, Map<number, CommittedOffset>> {
    return this.groups.get(group) ?? new Map<string, Map<number, CommittedOffset>>();
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  deleteGroup(group: string): void {
    this.groups.delete(group);
  }

  deleteTopic(topic: string): void {
    for (const topics of this.groups.values()) topics.delete(topic);
  }

  /** Resolves once every change made before the call is durable. */
  save(): Promise<void> {
    return this.saver.flush();
  }

  private serialize(): string {
    const out: OffsetsFile = { version: 1, groups: {} };
    for (const [group, topics] of this.groups) {
      const t: Record<string, Record<string, CommittedOffset>> = {};
      for (const [topic, partitions] of topics) t[topic] = Object.fromEntries(partitions);
      out.groups[group] = t;
    }
    return JSON.stringify(out);
  }
}
