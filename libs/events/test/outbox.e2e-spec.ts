import { Kafka as CloudEventsKafka, type KafkaMessage } from 'cloudevents';
import { createDataSource, pipelinedTransaction, sqlLiteral } from '@qiwei/persistence';
import { createLogger } from '@qiwei/platform';
import { eventually } from '@qiwei/testing';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import {
  createProducer,
  DEFAULT_RELAY_OPTIONS,
  ensureTopics,
  EventMetrics,
  laneOf,
  Outbox,
  OutboxRelay,
  OutboxRelayWorker,
  type OutboxRelayOptions,
} from '../src';
import {
  aTestTopic,
  anEvent,
  readTopic,
  seqOfRecord,
  startEventTestEnv,
  type EventTestEnv,
} from './support/event-test-env';

const logger = createLogger({ service: 'outbox-test', level: 'silent' });

// Every relay guarantee holds in both modes: on the main thread, and in a worker thread of its
// own (OUTBOX_RELAY_MODE; the worker runs from the build, `npm run build`).
describe.each(['inline', 'worker'] as const)(
  'events: transactional outbox and relay (%s)',
  (mode) => {
    let env: EventTestEnv;
    let admin: Admin;
    let producer: Producer;
    const relays: (OutboxRelay | OutboxRelayWorker)[] = [];
    const outbox = new Outbox({ service: 'testing', lanes: 4 });

    /** A relay of this mode (not started). */
    const aRelay = (options: OutboxRelayOptions, metrics?: EventMetrics) =>
      mode === 'worker'
        ? new OutboxRelayWorker(
            env.dataSource,
            { relay: options, brokers: env.brokers, clientId: 'outbox-test-relay' },
            logger,
            metrics,
          )
        : new OutboxRelay(env.dataSource, producer, options, logger, metrics);

    beforeAll(async () => {
      env = await startEventTestEnv(`events_outbox_${mode}`);
      admin = env.kafka.admin();
      await admin.connect();
      producer = createProducer(env.kafka);
      await producer.connect();
    });
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
    });
    afterAll(async () => {
      await producer.disconnect();
      await admin.disconnect();
      await env.close();
    });

    const startRelay = async (options: Partial<OutboxRelayOptions> = {}) => {
      const relay = aRelay({
        ...DEFAULT_RELAY_OPTIONS,
        databaseUrl: env.databaseUrl,
        pollIntervalMs: 100,
        ...options,
      });
      await relay.start();
      relays.push(relay);
      return relay;
    };
    /**
     * An inline relay, started, whose producer's requests go through `sendBatch` first (a test
     * counts them or refuses some); `send` hands a request on to the real producer.
     */
    const startRelayThrough = async (
      sendBatch: (
        batch: Parameters<Producer['sendBatch']>[0],
        send: Producer['sendBatch'],
      ) => ReturnType<Producer['sendBatch']>,
      options: Partial<OutboxRelayOptions> = {},
    ) => {
      const through = {
        ...producer,
        sendBatch: (batch: Parameters<Producer['sendBatch']>[0]) =>
          sendBatch(batch, (b) => producer.sendBatch(b)),
      } as Producer;
      const relay = new OutboxRelay(
        env.dataSource,
        through,
        { ...DEFAULT_RELAY_OPTIONS, databaseUrl: env.databaseUrl, ...options },
        logger,
      );
      await relay.start();
      relays.push(relay);
      return relay;
    };
    const pending = async () =>
      Number(
        (
          await env.dataSource.query<{ n: string }[]>(
            'SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL',
          )
        )[0].n,
      );

    it('publishes nothing when the transaction rolls back, and the event when it commits', async () => {
      const topic = aTestTopic('rollback');
      await ensureTopics(admin, [topic]);
      await expect(
        env.dataSource.transaction(async (manager) => {
          await outbox.publish(manager, topic, anEvent(topic, 'corp-r', 1));
          throw new Error('the state change failed');
        }),
      ).rejects.toThrow('the state change failed');
      await env.dataSource.transaction((manager) =>
        outbox.publish(manager, topic, anEvent(topic, 'corp-r', 2)),
      );
      await startRelay();
      const records = await readTopic(env.kafka, topic.name, 1);
      await eventually(async () => expect(await pending()).toBe(0));
      expect(records).toHaveLength(1);
      expect(JSON.parse(records[0].value as string)).toMatchObject({ department: { id: 2 } });
      // Nothing else arrives: offsets end at 1 across the partitions.
      const offsets = await admin.fetchTopicOffsets(topic.name);
      expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
    });

    it('writes events with a pipelined transaction’s last statements: all or nothing, in order, relay woken', async () => {
      const topic = aTestTopic('pipelined');
      await ensureTopics(admin, [topic]);
      await startRelay({ pollIntervalMs: 600_000 }); // only the commit can wake it
      await eventually(async () => expect(await pending()).toBe(0));
      const effects = async () =>
        (
          await env.dataSource.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM effects WHERE consumer = 'pipelined'`,
          )
        )[0].n;
      // Text that needs quoting travels intact ('quotes', backslashes, Chinese).
      const tricky = { ...anEvent(topic, "k'\\", 1), subject: `it's \\ 部门` };
      // A failing statement sent with COMMIT: neither the change nor the events are kept.
      await expect(
        pipelinedTransaction(env.dataSource, async (tx) => {
          await tx.begin(
            `INSERT INTO effects (consumer, event_id, seq) VALUES ('pipelined', 'x', 0)`,
          );
          const { sql } = outbox.statement(topic, [tricky]);
          await tx.commit(`${sql}; SELECT 1 / 0`);
        }),
      ).rejects.toThrow('division by zero');
      expect(await effects()).toBe(0);
      expect(await pending()).toBe(0);
      const ids = await pipelinedTransaction(env.dataSource, async (tx) => {
        await tx.begin(
          `INSERT INTO effects (consumer, event_id, seq) VALUES ('pipelined', ${sqlLiteral("it's")}, 1)`,
        );
        const { sql, ids } = outbox.statement(topic, [tricky, anEvent(topic, "k'\\", 2)]);
        await tx.commit(sql);
        return ids;
      });
      outbox.committed(env.dataSource);
      expect(await effects()).toBe(1);
      const records = await readTopic(env.kafka, topic.name, 2);
      expect(records.map(seqOfRecord)).toEqual([1, 2]);
      expect(records.map((r) => r.key)).toEqual(["k'\\", "k'\\"]);
      expect(records[0].headers.ce_subject).toBe(`it's \\ 部门`);
      expect(records.map((r) => r.headers.ce_id)).toEqual(ids);
    });

    it('wakes the relay of this process on commit, without waiting for its polling', async () => {
      const topic = aTestTopic('notify');
      await ensureTopics(admin, [topic]);
      await startRelay({ pollIntervalMs: 600_000 }); // polling would take ten minutes
      await eventually(async () => expect(await pending()).toBe(0));
      await env.dataSource.transaction((manager) =>
        outbox.publish(manager, topic, anEvent(topic, 'k', 7)),
      );
      const [record] = await readTopic(env.kafka, topic.name, 1);
      expect(seqOfRecord(record)).toBe(7);
    });

    it('publishes every commit of a steady flow without polling, however its wake-ups coincide with reads', async () => {
      const topic = aTestTopic('notify-flow');
      await ensureTopics(admin, [topic]);
      await startRelay({ pollIntervalMs: 600_000, lingerMs: 0 }); // polling would take ten minutes
      await eventually(async () => expect(await pending()).toBe(0));
      // Commits land before, during and after the relay's reads: each one must still be seen
      // by a read that follows it (a worker is woken at most once per read).
      const writers = 4;
      const perWriter = 60;
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          for (let i = 0; i < perWriter; i++)
            await env.dataSource.transaction((manager) =>
              outbox.publish(manager, topic, anEvent(topic, `flow-${writer}`, i)),
            );
        }),
      );
      const records = await readTopic(env.kafka, topic.name, writers * perWriter);
      for (let writer = 0; writer < writers; writer++)
        expect(
          records.filter((r) => r.key === `flow-${writer}`).map((r) => seqOfRecord(r)),
        ).toEqual(Array.from({ length: perWriter }, (_, i) => i));
      expect(await pending()).toBe(0);
    });

    it('wakes relays of other processes after the commit (NOTIFY from outside the transaction)', async () => {
      const topic = aTestTopic('notify-other');
      await ensureTopics(admin, [topic]);
      await startRelay({ pollIntervalMs: 600_000 });
      await eventually(async () => expect(await pending()).toBe(0));
      // Another process's writer: its own DataSource, so only the database can wake the relay.
      const writer = createDataSource({
        url: env.databaseUrl,
        applicationName: 'other-writer',
        entities: [],
        migrations: [],
      });
      await writer.initialize();
      try {
        await writer.transaction(async (manager) => {
          await outbox.publish(manager, topic, anEvent(topic, 'k', 8));
          // Nested (a savepoint): its release is not the commit.
          await manager.transaction((inner) =>
            outbox.publish(inner, topic, anEvent(topic, 'k', 9)),
          );
        });
        const records = await readTopic(env.kafka, topic.name, 2);
        expect(records.map(seqOfRecord).sort()).toEqual([8, 9]);
      } finally {
        await writer.destroy();
      }
    });

    it('sends no NOTIFY while the relay of this process holds every lane, and one when it does not', async () => {
      const topic = aTestTopic('notify-skip');
      await ensureTopics(admin, [topic]);
      const notifies = () =>
        query.mock.calls.filter(([sql]) => String(sql).includes('pg_notify')).length;
      const query = jest.spyOn(env.dataSource, 'query');
      try {
        const relay = await startRelay({ pollIntervalMs: 600_000 });
        await eventually(async () => expect(relay.lanes()).toEqual([0, 1, 2, 3]));
        // The NOTIFY, when there is one, is sent as the commit returns (see OutboxSignal).
        await env.dataSource.transaction((manager) =>
          outbox.publish(manager, topic, anEvent(topic, 'k', 1)),
        );
        expect(notifies()).toBe(0);
        expect(seqOfRecord((await readTopic(env.kafka, topic.name, 1))[0])).toBe(1);

        await relay.stop();
        await env.dataSource.transaction((manager) =>
          outbox.publish(manager, topic, anEvent(topic, 'k', 2)),
        );
        expect(notifies()).toBe(1);
      } finally {
        query.mockRestore();
      }
    });

    it('stops at once when asked while busy, instead of starting another (ten-minute) sleep', async () => {
      const topic = aTestTopic('stop-busy');
      await ensureTopics(admin, [topic]);
      const relay = await startRelay({ pollIntervalMs: 600_000 });
      relays.splice(relays.indexOf(relay), 1);
      const commits = Array.from({ length: 20 }, (_, i) =>
        env.dataSource.transaction((manager) =>
          outbox.publish(manager, topic, anEvent(topic, `k${i}`, i)),
        ),
      );
      await Promise.all(commits);
      // Asked while the relay is woken and publishing: it must not go back to sleep.
      await relay.stop();
    });

    it('no longer notifies from inside writing transactions (commits do not queue on the notify lock)', async () => {
      const triggers = await env.dataSource.query<{ tgname: string }[]>(
        `SELECT tgname FROM pg_trigger WHERE tgrelid = 'event_outbox'::regclass AND NOT tgisinternal`,
      );
      expect(triggers).toEqual([]);
    });

    it('refuses to publish outside a transaction', async () => {
      const topic = aTestTopic('no-tx');
      await expect(
        outbox.publish(env.dataSource.manager, topic, anEvent(topic, 'k', 1)),
      ).rejects.toThrow(/open transaction/);
    });

    it('refuses an event type its topic does not declare', async () => {
      const topic = aTestTopic('undeclared');
      await expect(
        env.dataSource.transaction((manager) =>
          outbox.publish(manager, topic, {
            ...anEvent(topic, 'k', 1),
            type: 'qiwei.testing.other.created.v1',
          }),
        ),
      ).rejects.toThrow(/not declared/);
    });

    it('publishes every committed event, in order per key, as a CloudEvent the SDK reads back', async () => {
      const topic = aTestTopic('ordered');
      await ensureTopics(admin, [topic]);
      const keys = [
        'ww00000000000000a1',
        'ww00000000000000b2',
        'ww00000000000000c3',
        'ww00000000000000d4',
        'ww00000000000000e5',
      ];
      const perKey = 300;
      // Concurrent writers, each transaction holding events of several keys.
      await startRelay({ batchSize: 100 });
      await Promise.all(
        [0, 1, 2].map(async (writer) => {
          for (let seq = writer; seq < perKey; seq += 3) {
            await env.dataSource.transaction(async (manager) => {
              for (const key of keys) {
                // Writes to one key are serialised, as a service serialises writes to one
                // aggregate (identity locks the corp row): per-key order is then commit order.
                await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
                await outbox.publish(manager, topic, anEvent(topic, key, seq));
              }
            });
          }
        }),
      );
      const records = await readTopic(env.kafka, topic.name, keys.length * perKey);
      const byKey = new Map<string, number[]>();
      for (const record of records) {
        const seq = seqOfRecord(record);
        byKey.set(record.key as string, [...(byKey.get(record.key as string) ?? []), seq]);
      }
      for (const key of keys) {
        const seqs = byKey.get(key) ?? [];
        expect(seqs).toHaveLength(perKey);
        // Writers interleave, so commit order decides; within a key it must match outbox order.
        const committed = await env.dataSource.query<{ seq: number }[]>(
          `SELECT coalesce((payload::jsonb #>> '{department,id}')::int, 0) AS seq FROM event_outbox
          WHERE topic = $1 AND partition_key = $2 ORDER BY id`,
          [topic.name, key],
        );
        expect(seqs).toEqual(committed.map((r) => r.seq));
      }
      // Each key stays on one partition.
      for (const key of keys)
        expect(new Set(records.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);

      const first = records[0];
      expect(first.headers).toMatchObject({
        ce_specversion: '1.0',
        ce_source: '/qiwei/testing',
        ce_type: 'qiwei.testing.ordered.created.v1',
        ce_dataschema: 'qiwei.identity.v1.DepartmentCreated',
        'content-type': 'application/json',
      });
      const message: KafkaMessage<string> = {
        key: first.key as string,
        value: first.value as string,
        headers: first.headers,
        body: first.value,
      };
      const cloudEvent = CloudEventsKafka.toEvent(message);
      const single = Array.isArray(cloudEvent) ? cloudEvent[0] : cloudEvent;
      expect(single).toMatchObject({
        id: first.headers.ce_id,
        type: 'qiwei.testing.ordered.created.v1',
        source: '/qiwei/testing',
        specversion: '1.0',
        subject: first.headers.ce_subject,
        dataschema: 'qiwei.identity.v1.DepartmentCreated',
        tenant: first.key,
        data: JSON.parse(first.value as string),
      });
    });

    it('shares lanes between two relays and never publishes a row twice or out of order', async () => {
      const topic = aTestTopic('two-relays');
      await ensureTopics(admin, [topic]);
      const keys = Array.from(
        { length: 8 },
        (_, i) => `ww0000000000000${String(i).padStart(3, '0')}`,
      );
      const perKey = 150;
      for (let seq = 0; seq < perKey; seq++) {
        await env.dataSource.transaction(async (manager) => {
          for (const key of keys) await outbox.publish(manager, topic, anEvent(topic, key, seq));
        });
      }
      // Lanes 0-1 are taken by a session that stands for another relay; it gives them up later.
      const { Client } = await import('pg');
      const other = new Client({ connectionString: env.databaseUrl });
      await other.connect();
      await other.query('SELECT pg_advisory_lock(4240002, 0), pg_advisory_lock(4240002, 1)');
      const a = await startRelay({ batchSize: 50 });
      const b = await startRelay({ batchSize: 50 });
      await eventually(() => expect([...a.lanes(), ...b.lanes()].sort()).toEqual([2, 3]));
      const heldByOther = keys.filter((k) => laneOf(k, 4) < 2).length;
      await eventually(async () => expect(await pending()).toBe(heldByOther * perKey));
      await other.end(); // the lease holder dies: its lanes are taken over
      await eventually(async () => expect(await pending()).toBe(0));
      expect(new Set([...a.lanes(), ...b.lanes()])).toEqual(new Set([0, 1, 2, 3]));
      expect(a.lanes().filter((lane) => b.lanes().includes(lane))).toEqual([]);

      const records = await readTopic(env.kafka, topic.name, keys.length * perKey);
      const offsets = await admin.fetchTopicOffsets(topic.name);
      expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(keys.length * perKey); // none twice
      for (const key of keys) {
        const seqs = records.filter((r) => r.key === key).map((r) => seqOfRecord(r));
        expect(seqs).toEqual(Array.from({ length: perKey }, (_, i) => i));
      }
    });

    // Inline only: it counts the produce requests of the relay's producer.
    if (mode === 'inline')
      it('publishes what every lane has pending in one produce request, and a lane’s backlog in full batches, in order', async () => {
        const topic = aTestTopic('lanes-together');
        await ensureTopics(admin, [topic]);
        // One key per lane; lane 0's key gets a backlog beyond its share of a batch.
        const keys: string[] = [];
        for (let i = 0; keys.length < 4; i++) {
          const key = `ww00000000lanes${String(i).padStart(3, '0')}`;
          if (laneOf(key, 4) === keys.length) keys.push(key);
        }
        const counts = [130, 5, 5, 5];
        // Rows earlier tests left unpublished would share these batches: set them aside.
        await env.dataSource.query(
          'UPDATE event_outbox SET published_at = now() WHERE published_at IS NULL',
        );
        await env.dataSource.transaction(async (manager) => {
          for (const [lane, key] of keys.entries())
            for (let seq = 0; seq < counts[lane]; seq++)
              await outbox.publish(manager, topic, anEvent(topic, key, seq));
        });
        const requests: number[] = [];
        await startRelayThrough(
          (batch, send) => {
            requests.push(batch.topicMessages!.reduce((n, t) => n + t.messages.length, 0));
            return send(batch);
          },
          { batchSize: 100 },
        );
        await eventually(async () => expect(await pending()).toBe(0));
        // Every lane's first 25 (100 / 4 lanes) in one request; then lane 0's remaining 105 in
        // batches of 100.
        expect(requests).toEqual([25 + 5 + 5 + 5, 100, 5]);
        const records = await readTopic(env.kafka, topic.name, 145);
        for (const [lane, key] of keys.entries()) {
          const seqs = records.filter((r) => r.key === key).map((r) => seqOfRecord(r));
          expect(seqs).toEqual(Array.from({ length: counts[lane] }, (_, i) => i));
        }
      });

    // Inline only: the relay's producer refuses one topic (as Kafka refuses a record too large
    // or a topic that is gone) until the test lets it through.
    if (mode === 'inline')
      it('keeps publishing the other lanes while one lane’s events are refused, then that lane in order', async () => {
        const [good, refused] = [aTestTopic('lane-ok'), aTestTopic('lane-refused')];
        await ensureTopics(admin, [good, refused]);
        const keys: string[] = [];
        for (let i = 0; keys.length < 2; i++) {
          const key = `ww000000000refuse${String(i).padStart(3, '0')}`;
          if (laneOf(key, 4) === keys.length) keys.push(key);
        }
        await env.dataSource.query(
          'UPDATE event_outbox SET published_at = now() WHERE published_at IS NULL',
        );
        let refusing = true;
        const refusals: number[] = [];
        await startRelayThrough(
          (batch, send) => {
            if (refusing && batch.topicMessages!.some((t) => t.topic === refused.name)) {
              refusals.push(1);
              return Promise.reject(new Error('refused by the test'));
            }
            return send(batch);
          },
          { retryBackoffMs: 50 },
        );
        const pendingOf = async (name: string) =>
          Number(
            (
              await env.dataSource.query<{ n: string }[]>(
                'SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL AND topic = $1',
                [name],
              )
            )[0].n,
          );
        // Each transaction writes to both lanes, so every wake-up reads both together.
        for (let seq = 0; seq < 20; seq++)
          await env.dataSource.transaction(async (manager) => {
            await outbox.publish(manager, refused, anEvent(refused, keys[0], seq));
            await outbox.publish(manager, good, anEvent(good, keys[1], seq));
          });
        await eventually(async () => expect(await pendingOf(good.name)).toBe(0));
        const delivered = await readTopic(env.kafka, good.name, 20);
        expect(delivered.map((r) => seqOfRecord(r))).toEqual(
          Array.from({ length: 20 }, (_, i) => i),
        );
        expect(await pendingOf(refused.name)).toBe(20);
        expect(refusals.length).toBeGreaterThan(0);

        refusing = false;
        await eventually(async () => expect(await pendingOf(refused.name)).toBe(0));
        const late = await readTopic(env.kafka, refused.name, 20);
        expect(late.map((r) => seqOfRecord(r))).toEqual(Array.from({ length: 20 }, (_, i) => i));
      });

    it('counts published events and their latency per topic, for batches mixing topics', async () => {
      const [first, second] = [aTestTopic('metrics-a'), aTestTopic('metrics-b')];
      await ensureTopics(admin, [first, second]);
      // Interleaved topics in one lane batch: a, a, b, a, b, b, b.
      const order = [first, first, second, first, second, second, second];
      await env.dataSource.transaction(async (manager) => {
        for (const [i, topic] of order.entries())
          await outbox.publish(manager, topic, anEvent(topic, 'one-key', i));
      });
      const registry = new Registry();
      const metrics = new EventMetrics(registry);
      const relay = aRelay(
        { ...DEFAULT_RELAY_OPTIONS, databaseUrl: env.databaseUrl, pollIntervalMs: 100 },
        metrics,
      );
      await relay.start();
      relays.push(relay);
      await readTopic(env.kafka, second.name, 4);
      await eventually(async () => {
        const published = await registry.getSingleMetricAsString('qiwei_outbox_published_total');
        expect(published).toContain(`qiwei_outbox_published_total{topic="${first.name}"} 3`);
        expect(published).toContain(`qiwei_outbox_published_total{topic="${second.name}"} 4`);
      });
      const latency = await registry.getSingleMetricAsString(
        'qiwei_outbox_publish_latency_seconds',
      );
      expect(latency).toContain(
        `qiwei_outbox_publish_latency_seconds_count{topic="${first.name}"} 3`,
      );
      expect(latency).toContain(
        `qiwei_outbox_publish_latency_seconds_count{topic="${second.name}"} 4`,
      );
    });

    it('prunes published rows after their retention', async () => {
      const topic = aTestTopic('prune');
      await ensureTopics(admin, [topic]);
      await env.dataSource.transaction((manager) =>
        outbox.publish(manager, topic, anEvent(topic, 'k', 1)),
      );
      await env.dataSource.query(
        "UPDATE event_outbox SET published_at = now() - interval '2 hours' WHERE published_at IS NOT NULL",
      );
      await startRelay({ pruneAfterMs: 60 * 60 * 1000 });
      await readTopic(env.kafka, topic.name, 1);
      await eventually(async () => {
        const rows = await env.dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM event_outbox WHERE published_at < now() - interval '1 hour'`,
        );
        expect(Number(rows[0].n)).toBe(0);
      });
      // The row just published stays until its own retention passes.
      const kept = await env.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM event_outbox WHERE topic = $1`,
        [topic.name],
      );
      expect(Number(kept[0].n)).toBe(1);
    });
  },
);
