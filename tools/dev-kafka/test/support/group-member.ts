// A kafkajs group member in its own process, so a test can SIGKILL it: the broker then sees the
// member vanish without a LeaveGroup. Run directly by Node's type stripping. Prints one JSON
// line per assignment and per message.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const [brokers, groupId, topic, sessionTimeout] = process.argv.slice(2);

async function run(): Promise<void> {
  const kafka = new Kafka({
    clientId: 'killable-member',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: Number(sessionTimeout),
    heartbeatInterval: 300,
    maxWaitTimeInMs: 300,
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    process.stdout.write(
      `${JSON.stringify({ type: 'assigned', partitions: e.payload.memberAssignment[topic] ?? [] })}\n`,
    );
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(
        `${JSON.stringify({ type: 'message', partition, offset: Number(message.offset), value: message.value?.toString() })}\n`,
      );
    },
  });
}

run().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
