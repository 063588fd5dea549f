import * as fs from 'node:fs';
import { FetchRequest } from '../src/codecs/fetch.codec';
import { silentLogger } from '../src';
import { FetchHandler } from '../src/server/fetch-handler';
import { TopicStore } from '../src/storage/topic-store';
import { tempDataDir } from './support/harness';
import { makeRecordBatch } from './support/record-batch-builder';

describe('dev-kafka long-polling fetch', () => {
  let dataDir: string;
  let topics: TopicStore;
  let fetches: FetchHandler;

  beforeEach(() => {
    dataDir = tempDataDir('fetch-handler');
    topics = new TopicStore(
      dataDir,
      { segmentBytes: 1 << 20, maxBytes: -1, maxAgeMs: -1 },
      silentLogger,
    );
    topics.load();
    topics.create('orders', 3);
    fetches = new FetchHandler(topics);
  });

  afterEach(() => {
    fetches.releaseAll();
    topics.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const parkedFetch = (maxWaitMs: number): FetchRequest => ({
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [
      {
        topic: 'orders',
        partitions: [0, 1, 2].map((partition) => ({
          partition,
          fetchOffset: 0,
          partitionMaxBytes: 1 << 20,
        })),
      },
    ],
  });

  const recordCounts = (response: Awaited<ReturnType<FetchHandler['fetch']>>) =>
    response.topics[0].partitions.map((p) =>
      p.records.length > 0 ? p.records.readInt32BE(57) : 0,
    );

  it('answers a parked fetch with every partition one produce request appended, not the first alone', async () => {
    const answer = fetches.fetch(parkedFetch(60_000), 11);
    expect(answer).toBeInstanceOf(Promise);
    // One produce request appends its partitions one after another, synchronously.
    const now = Date.now();
    topics.partition('orders', 0)?.append(makeRecordBatch(2, now));
    topics.partition('orders', 2)?.append(makeRecordBatch(3, now));
    expect(recordCounts(await answer)).toEqual([2, 0, 3]);
  });

  it('answers at once when data is already there, and a parked fetch on its deadline when none comes', async () => {
    topics.partition('orders', 1)?.append(makeRecordBatch(4, Date.now()));
    const immediate = fetches.fetch(parkedFetch(60_000), 11);
    expect(immediate).not.toBeInstanceOf(Promise);
    expect(recordCounts(await immediate)).toEqual([0, 4, 0]);

    const idle: FetchRequest = {
      ...parkedFetch(50),
      topics: [
        {
          topic: 'orders',
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }],
        },
      ],
    };
    const empty = await fetches.fetch(idle, 11);
    expect(empty.topics[0].partitions[0].records.length).toBe(0);
  });

  it('wakes a parked fetch once when a topic it waits on is deleted', async () => {
    const answer = fetches.fetch(parkedFetch(60_000), 11);
    topics.delete('orders');
    const response = await answer;
    expect(response.topics[0].partitions.map((p) => p.errorCode)).toEqual([3, 3, 3]);
  });
});
