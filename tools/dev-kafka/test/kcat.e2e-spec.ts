import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Kafka } from 'kafkajs';
import { DevKafka } from '../src';
import { eventually, kafkaClient, startTestBroker, tempDataDir } from './support/harness';

function findKcat(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v kcat'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const KCAT = findKcat();
if (!KCAT)
  console.warn(
    'dev-kafka: kcat is not installed; skipping the librdkafka (kcat) compatibility tests',
  );
const describeWithKcat = KCAT ? describe : describe.skip;

interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kcat(args: string[], input?: string, timeoutMs = 20_000): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(KCAT ?? 'kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(input ?? '');
  });
}

interface KcatMember {
  proc: ChildProcess;
  assigned: number[];
  values: string[];
}

describeWithKcat('dev-kafka with kcat (librdkafka 2.0)', () => {
  let broker: DevKafka;
  let kafka: Kafka;
  let bootstrap: string;
  const members: KcatMember[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({ dataDir: tempDataDir('kcat') });
    bootstrap = broker.brokers[0];
    kafka = kafkaClient(broker, 'kcat-peer');
  });

  afterAll(async () => {
    for (const m of members) m.proc.kill('SIGKILL');
    await broker.stop();
  });

  async function createTopic(topic: string, numPartitions: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
    await admin.disconnect();
  }

  /** `partition offset key value` lines from kcat -C, read to the end of every partition. */
  async function kcatReadAll(
    topic: string,
  ): Promise<{ partition: number; offset: number; key: string; value: string }[]> {
    const res = await kcat([
      '-C',
      '-b',
      bootstrap,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%p\t%o\t%k\t%s\n',
    ]);
    expect(res.code).toBe(0);
    return res.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [partition, offset, key, value] = line.split('\t');
        return { partition: Number(partition), offset: Number(offset), key, value };
      });
  }

  it('lists the broker (as controller), topics and partitions with -L', async () => {
    await createTopic('kcat-listed', 3);
    const res = await kcat(['-L', '-b', bootstrap]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`broker 0 at ${bootstrap} (controller)`);
    expect(res.stdout).toContain('topic "kcat-listed" with 3 partitions:');
    for (const p of [0, 1, 2])
      expect(res.stdout).toContain(`partition ${p}, leader 0, replicas: 0, isrs: 0`);
  });

  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])(
    'stores keyed messages produced by kcat -P -z %s',
    async (codec) => {
      const topic = `kcat-produce-${codec}`;
      await createTopic(topic, 2);
      const lines = Array.from({ length: 200 }, (_, i) => `key${i % 13}:${codec}-value-${i}`);
      const produced = await kcat(
        ['-P', '-b', bootstrap, '-t', topic, '-K:', '-z', codec],
        `${lines.join('\n')}\n`,
      );
      expect(produced.code).toBe(0);

      // The broker stored every record: high watermarks (via kafkajs ListOffsets) add up to 200.
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(200);

      // And stored them intact: librdkafka decodes each codec and sees contiguous offsets per partition.
      const read = await kcatReadAll(topic);
      expect(read.map((r) => r.value).sort()).toEqual(lines.map((l) => l.split(':')[1]).sort());
      for (const r of read) expect(r.key).toBe(`key${Number(r.value.split('-').pop()) % 13}`);
      for (const p of [0, 1]) {
        const mine = read.filter((r) => r.partition === p);
        expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => i));
      }

      if (codec === 'none' || codec === 'gzip') {
        // kafkajs decodes these natively: it reads the same content.
        const consumer = kafka.consumer({ groupId: `kcat-verify-${codec}`, maxWaitTimeInMs: 200 });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        const values: string[] = [];
        await consumer.run({
          eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? ''),
        });
        await eventually(() =>
          expect(values.sort()).toEqual(lines.map((l) => l.split(':')[1]).sort()),
        );
        await consumer.disconnect();
      }
    },
  );

  it('lets kcat -C read everything kafkajs wrote, headers included', async () => {
    const topic = 'kcat-consume';
    await createTopic(topic, 3);
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 300 }, (_, i) => ({
      key: `k${i % 7}`,
      value: `v${i}`,
      headers: { trace: `t${i}` },
    }));
    await producer.send({ topic, messages });
    await producer.disconnect();
    const res = await kcat([
      '-C',
      '-b',
      bootstrap,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k\t%s\t%h\n',
    ]);
    expect(res.code).toBe(0);
    const got = res.stdout.split('\n').filter(Boolean).sort();
    expect(got).toEqual(
      messages.map((m) => `${m.key}\t${m.value}\ttrace=${m.headers.trace}`).sort(),
    );
  });

  function startMember(groupId: string, topic: string): KcatMember {
    const proc = spawn(
      KCAT ?? 'kcat',
      [
        '-b',
        bootstrap,
        '-G',
        groupId,
        topic,
        '-u',
        '-f',
        '%p %o %s\n',
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'heartbeat.interval.ms=300',
        '-X',
        'session.timeout.ms=6000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const m: KcatMember = { proc, assigned: [], values: [] };
    let out = '';
    let err = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) m.values.push(line.split(' ')[2]);
    });
    // kcat reports each rebalance on stderr, e.g. "% Group g rebalanced (memberid ...): assigned: t [0], t [2]".
    proc.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const lines = err.split('\n');
      err = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('assigned:')) {
          m.assigned = [...line.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])).sort();
        } else if (line.includes('revoked:')) {
          m.assigned = [];
        }
      }
    });
    members.push(m);
    return m;
  }

  it('shares a topic between two kcat -G members; one takes over when the other stops', async () => {
    const topic = 'kcat-group';
    await createTopic(topic, 4);
    const a = startMember('kcat-group', topic);
    const b = startMember('kcat-group', topic);
    await eventually(() => {
      expect(a.assigned.length).toBeGreaterThan(0);
      expect(b.assigned.length).toBeGreaterThan(0);
      expect([...a.assigned, ...b.assigned].sort()).toEqual([0, 1, 2, 3]);
    }, 40_000);

    const producer = kafka.producer();
    await producer.connect();
    const first = Array.from({ length: 100 }, (_, i) => `first-${i}`);
    await producer.send({ topic, messages: first.map((value, i) => ({ key: `k${i}`, value })) });
    await eventually(
      () => expect([...a.values, ...b.values].sort()).toEqual([...first].sort()),
      30_000,
    );
    expect(a.values.length).toBeGreaterThan(0);
    expect(b.values.length).toBeGreaterThan(0);

    b.proc.kill('SIGTERM'); // kcat closes its consumer: LeaveGroup
    await eventually(() => expect(a.assigned).toEqual([0, 1, 2, 3]), 40_000);
    const second = Array.from({ length: 100 }, (_, i) => `second-${i}`);
    await producer.send({ topic, messages: second.map((value, i) => ({ key: `k${i}`, value })) });
    await eventually(
      () =>
        expect(a.values.filter((v) => v.startsWith('second-')).sort()).toEqual([...second].sort()),
      30_000,
    );
    await producer.disconnect();
  });
});
