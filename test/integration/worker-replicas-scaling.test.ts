import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { waitFor } from './helpers.js';
import type { WorkerProcess } from './worker-harness.js';
import {
  assertEveryKeyOnce,
  mixtureMessages,
  produce,
  readTopic,
  scenario,
} from './worker-harness.js';
import { awaitTrainer, createModelTopic, spawnReplicas } from './worker-replicas-harness.js';

const online = (l: Record<string, unknown>): boolean => l.msg === 'phase' && l.phase === 'online';
const elected = (l: Record<string, unknown>): boolean => l.msg === 'elected trainer';

/** The input partitions the replica's labeller was given last (the trainer's own group aside). */
function labellerPartitions(replica: WorkerProcess): number[] {
  const assigned = replica.logs.filter(
    (l) => l.msg === 'partitions assigned' && l.role !== 'trainer',
  );
  const last = assigned[assigned.length - 1];
  return Array.isArray(last?.partitions) ? (last.partitions as number[]) : [];
}

/**
 * A steady trickle of mixture records through one producer, never past `ceiling`: the test raises
 * the ceiling after each scaling step, so records are in flight while replicas leave and join.
 */
interface Trickle {
  produced(): number;
  raiseCeiling(to: number): void;
  /** Settles once every record is produced, or soon after `stop()`. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

function startTrickle(kafka: Kafka, topic: string, from: number, total: number): Trickle {
  const { range } = mixtureMessages(total);
  let next = from;
  let ceiling = from;
  let stopped = false;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const done = (async () => {
    await producer.connect();
    try {
      while (next < total && !stopped) {
        const to = Math.min(next + 6, ceiling);
        if (to > next) await producer.send({ topic, messages: range(next, to), acks: -1 });
        next = Math.max(next, to);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await producer.disconnect();
    }
  })();
  return {
    produced: () => next,
    raiseCeiling: (to) => {
      ceiling = Math.min(total, to);
    },
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

void test('scaling 3 → 1 → 3 replicas mid-stream, exactly-once: a read_committed reader sees every record once', async (t) => {
  const s = await scenario(t, { partitions: 6 });
  await createModelTopic(s.kafka, s.group);
  const total = 1800;
  const { range } = mixtureMessages(total);
  await produce(s.kafka, s.input, range(0, 300));
  const first = await spawnReplicas(t, s, 3);
  const trainer = await awaitTrainer(first, 90_000);
  await waitFor(() => first.every((r) => r.hasLogged(online)), 120_000, 'three replicas labelling');
  const trickle = startTrickle(s.kafka, s.input, 300, total);
  t.after(() => trickle.stop());

  // 3 → 1: the trainer and one labeller leave as Kubernetes scales down, records still arriving.
  trickle.raiseCeiling(1000);
  await waitFor(() => trickle.produced() >= 600, 30_000, 'records flowing to three replicas');
  const labellers = first.filter((r) => r !== trainer);
  const survivor = labellers[0] as WorkerProcess;
  const leaving = [trainer, ...labellers.slice(1)];
  for (const replica of leaving) replica.child.kill('SIGTERM');
  for (const replica of leaving) assert.equal(await replica.exited, 0, replica.stderr.join(''));
  await waitFor(() => survivor.hasLogged(elected), 60_000, 'the last replica elected trainer');
  await waitFor(
    () => labellerPartitions(survivor).length === 6,
    60_000,
    'the last replica labelling all six partitions',
  );

  // 1 → 3: two replicas join while records arrive; the role stays where it is.
  trickle.raiseCeiling(1500);
  await waitFor(() => trickle.produced() >= 1200, 30_000, 'records flowing to one replica');
  const joined = await spawnReplicas(t, s, 2);
  trickle.raiseCeiling(total);
  await waitFor(
    () => joined.every((r) => r.hasLogged(online) && labellerPartitions(r).length > 0),
    120_000,
    'the two new replicas labelling their share',
  );
  await trickle.done;

  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  const running = [survivor, ...joined];
  for (const replica of running) replica.child.kill('SIGTERM');
  for (const replica of running) assert.equal(await replica.exited, 0, replica.stderr.join(''));
  assertEveryKeyOnce(out, total);
  assert.ok(
    joined.every((r) => !r.hasLogged(elected)),
    'replicas that join leave the role with the replica that holds it',
  );
});
