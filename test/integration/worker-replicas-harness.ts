/**
 * Plumbing for the scale-out tests: replicas of `dec-stream run` with DEC_SCALE_OUT, a models
 * topic with a small message limit (so every version travels in several chunks), and a reader of
 * every version the topic holds.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Kafka } from 'kafkajs';
import { ModelAssembler } from '../../src/kafka/model-messages.js';
import { initBackend } from '../../src/model/backend.js';
import { ModelVersion } from '../../src/model/model-version.js';
import { decodeSnapshot } from '../../src/model/snapshot-codec.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import { uniqueTopic, waitFor, waitUntilServed } from './helpers.js';
import type { ReadMessage, WorkerProcess, WorkerScenario } from './worker-harness.js';
import { spawnWorker } from './worker-harness.js';

/** Small enough that even a k-means version of the test model (a few KiB) is cut into several chunks. */
export const ModelTopicMaxMessageBytes = 2048;

/** Creates `<group>.models` compacted, with a small message limit; returns its name. */
export async function createModelTopic(kafka: Kafka, group: string): Promise<string> {
  const topic = `${group}.models`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'max.message.bytes', value: String(ModelTopicMaxMessageBytes) },
          ],
        },
      ],
    });
    await waitUntilServed(admin, topic);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** The environment of one scale-out replica: exactly-once, quick group timing, its own model cache. */
export async function replicaEnv(
  t: TestContext,
  s: WorkerScenario,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const cache = await mkdtemp(join(tmpdir(), 'dec-replica-'));
  t.after(() => rm(cache, { recursive: true, force: true }));
  return s.env({
    DEC_SCALE_OUT: 'true',
    DEC_DELIVERY: 'exactly-once',
    DEC_BATCH_MAX_RECORDS: '10',
    DEC_SESSION_TIMEOUT_MS: '6000',
    DEC_HEARTBEAT_INTERVAL_MS: '1000',
    DEC_REBALANCE_TIMEOUT_MS: '6000',
    DEC_LABEL_THREAD: 'off',
    DEC_PUBLISH_THREAD: 'off',
    DEC_MODEL_DIR: cache,
    ...extra,
  });
}

/** Replicas spawned by this test process so far: names every log dump apart. */
let spawnedReplicas = 0;

export async function spawnReplicas(
  t: TestContext,
  s: WorkerScenario,
  count: number,
  extra: Record<string, string> = {},
): Promise<WorkerProcess[]> {
  const replicas: WorkerProcess[] = [];
  for (let i = 0; i < count; i++) replicas.push(spawnWorker(t, await replicaEnv(t, s, extra)));
  const first = spawnedReplicas;
  spawnedReplicas += count;
  const dump = process.env.DEC_TEST_LOG_DIR;
  if (dump !== undefined) {
    t.after(() =>
      Promise.all(
        replicas.map((r, i) =>
          writeFile(
            join(dump, `replica-${first + i}.log`),
            r.logs.map((l) => JSON.stringify(l)).join('\n'),
          ),
        ),
      ),
    );
  }
  return replicas;
}

/** The replica that logged its election last (the trainer now), once one has. */
export async function awaitTrainer(
  replicas: readonly WorkerProcess[],
  timeoutMs: number,
  except?: WorkerProcess,
): Promise<WorkerProcess> {
  let trainer: WorkerProcess | undefined;
  await waitFor(
    () => {
      trainer = replicas.find(
        (r) => r !== except && r.hasLogged((l) => l.msg === 'elected trainer'),
      );
      return trainer !== undefined;
    },
    timeoutMs,
    'a replica elected trainer',
  );
  return trainer as WorkerProcess;
}

/** Every version on the models topic that arrives whole, by version number. */
export async function readModelVersions(
  kafka: Kafka,
  topic: string,
): Promise<Map<number, ModelSnapshot>> {
  const consumer = kafka.consumer({ groupId: uniqueTopic('models-reader'), maxWaitTimeInMs: 200 });
  const assembler = new ModelAssembler();
  const versions = new Map<number, ModelSnapshot>();
  let chunked = false;
  // The high watermark: a version whose commit just returned may still lie past the stable offset.
  const admin = kafka.admin({ readUncommitted: true });
  await admin.connect();
  const end = BigInt((await admin.fetchTopicOffsets(topic))[0]?.high ?? '0');
  await admin.disconnect();
  let position = 0n;
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    position = BigInt(event.payload.lastOffset) + 1n;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const key = message.key?.toString() ?? '';
        if (key.includes('/chunk/1')) chunked = true;
        const assembled = assembler.add({ key, value: message.value });
        if (assembled?.ok === true) {
          versions.set(assembled.manifest.version, decodeSnapshot(assembled.bytes));
        }
        return Promise.resolve();
      },
    });
    await waitFor(() => position >= end, 30_000, 'the models topic read to its end');
  } finally {
    await consumer.disconnect();
  }
  assert.ok(chunked, 'versions larger than the topic limit travel in several chunks');
  return versions;
}

/**
 * Labels every output record again, in this process, with the published version it names, and
 * asserts the cluster is the one the replica wrote: whichever replica labelled a record, the same
 * version gives it the same cluster.
 */
export async function assertLabelsReproduce(
  out: readonly ReadMessage[],
  versions: ReadonlyMap<number, ModelSnapshot>,
): Promise<void> {
  await initBackend('cpu');
  const models = new Map<number, ModelVersion>();
  let mismatches = 0;
  for (const message of out) {
    const value = JSON.parse((message.value as Buffer).toString()) as Record<string, unknown>;
    const version = value.model_version as number;
    const snapshot = versions.get(version);
    assert.ok(
      snapshot !== undefined,
      `version ${version} of ${message.key} is on the models topic`,
    );
    let model = models.get(version);
    if (model === undefined) {
      model = new ModelVersion(snapshot);
      models.set(version, model);
    }
    const { batch, row } = model.assignRecords([value]);
    const index = batch.cluster[row[0] as number] as number;
    if (model.clusterIds[index] !== value.cluster) mismatches += 1;
  }
  for (const model of models.values()) model.dispose();
  assert.equal(mismatches, 0, 'every record gets the cluster its version gives it');
}
