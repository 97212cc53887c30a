/**
 * Holds the trainer's role of a replica group from outside: a member of the group's control
 * group that says it trains already, so the group's assignor keeps the control partition with it.
 * While it holds the role no replica trains, so none publishes the first version and every
 * labeller waits, holding its partitions without labelling. Releasing it (leaving the group)
 * lets a replica be elected, which publishes its cached model, and every labeller starts at once.
 */
import type { Kafka } from 'kafkajs';
import { stickyTrainerAssigner } from '../../src/kafka/kafka-trainer-election.js';

export interface RoleHolder {
  /** Leaves the group; later calls share the first. */
  release(): Promise<void>;
}

export async function holdTrainerRole(kafka: Kafka, controlTopic: string): Promise<RoleHolder> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: controlTopic, numPartitions: 1 }],
    });
  } finally {
    await admin.disconnect();
  }
  // The replicas name the election's group after the control topic.
  const consumer = kafka.consumer({
    groupId: controlTopic,
    partitionAssigners: [stickyTrainerAssigner(controlTopic, () => true)],
  });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [controlTopic], fromBeginning: false });
  await consumer.run({ eachMessage: () => Promise.resolve() });
  const deadline = Date.now() + 60_000;
  while (!joined) {
    if (Date.now() > deadline) throw new Error(`never joined ${controlTopic}'s group`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let released: Promise<void> | undefined;
  return { release: () => (released ??= consumer.disconnect()) };
}
