import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode } from '../protocol/error-codes';
import { DevKafkaLogger } from '../logger';
import { fsyncDirSync } from './fs-durable';
import { PartitionLog, RetentionPolicy } from './partition-log';

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== '.' && name !== '..';
}

/**
 * Topics on disk: `<dataDir>/topics/<topic>/<partition>/<baseOffset>.log`. The partition count is
 * the number of partition directories; a topic is created in a hidden staging directory and
 * renamed into place so a crash never leaves a topic with some of its partitions.
 */
export class TopicStore {
  private readonly topics = new Map<string, PartitionLog[]>();
  private readonly root: string;

  constructor(
    dataDir: string,
    private readonly retention: RetentionPolicy,
    private readonly logger: DevKafkaLogger,
  ) {
    this.root = path.join(dataDir, 'topics');
  }

  load(): void {
    fs.mkdirSync(this.root, { recursive: true });
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.root, entry.name);
      if (entry.name.startsWith('.')) {
        // Half-created or half-deleted topics from an interrupted run.
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const partitions = fs
        .readdirSync(dir)
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .sort((a, b) => a - b);
      if (partitions.length === 0 || partitions.some((p, i) => p !== i)) {
        this.logger.warn(`dev-kafka: ignoring ${dir}: partition directories are not 0..n-1`);
        continue;
      }
      this.topics.set(
        entry.name,
        partitions.map((p) =>
          PartitionLog.open(path.join(dir, String(p)), this.retention, this.logger),
        ),
      );
    }
  }

  names(): string[] {
    return [...this.topics.keys()].sort();
  }

  partitions(topic: string): PartitionLog[] | undefined {
    return this.topics.get(topic);
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.[partition];
  }

  create(topic: string, numPartitions: number): ErrorCode {
    if (!isValidTopicName(topic)) return ErrorCode.INVALID_TOPIC_EXCEPTION;
    if (this.topics.has(topic)) return ErrorCode.TOPIC_ALREADY_EXISTS;
    if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 10_000) {
      return ErrorCode.INVALID_PARTITIONS;
    }
    const staging = path.join(this.root, `.creating-${topic}`);
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging);
    for (let p = 0; p < numPartitions; p++) fs.mkdirSync(path.join(staging, String(p)));
    const dir = path.join(this.root, topic);
    fs.renameSync(staging, dir);
    fsyncDirSync(this.root);
    const logs: PartitionLog[] = [];
    for (let p = 0; p < numPartitions; p++) {
      logs.push(PartitionLog.open(path.join(dir, String(p)), this.retention, this.logger));
    }
    this.topics.set(topic, logs);
    this.logger.info(`dev-kafka: created topic ${topic} with ${numPartitions} partition(s)`);
    return ErrorCode.NONE;
  }

  delete(topic: string): ErrorCode {
    const logs = this.topics.get(topic);
    if (!logs) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    this.topics.delete(topic);
    for (const log of logs) log.close(false);
    // Rename first so a crash mid-delete cannot resurrect a partial topic.
    const trash = path.join(this.root, `.deleting-${topic}-${Date.now()}`);
    fs.renameSync(path.join(this.root, topic), trash);
    fsyncDirSync(this.root);
    fs.rmSync(trash, { recursive: true, force: true });
    this.logger.info(`dev-kafka: deleted topic ${topic}`);
    return ErrorCode.NONE;
  }

  applyRetention(now: number): void {
    for (const logs of this.topics.values()) {
      for (const log of logs) log.applyRetention(now);
    }
  }

  async flushAll(): Promise<void> {
    const flushes: Promise<void>[] = [];
    for (const logs of this.topics.values()) for (const log of logs) flushes.push(log.flush());
    await Promise.all(flushes);
  }

  close(): void {
    for (const logs of this.topics.values()) for (const log of logs) log.close(true);
    this.topics.clear();
  }
}
