import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { ModelVersion } from '../../src/model/model-version.js';
import { decodeSnapshot } from '../../src/model/snapshot-codec.js';
import type { AssignmentBatch, Matrix, ModelSnapshot } from '../../src/model/types.js';
import { startWorker } from '../../src/run-worker.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { FsModelStore } from '../../src/store/fs-model-store.js';
import type { RetrainReport } from '../../src/worker/observer.js';
import type { ModelRefiner } from '../../src/worker/ports.js';
import { silentObserver } from '../../src/worker/observer.js';
import { waitFor } from './helpers.js';
import {
  mixtureMessages,
  mixtureRecord,
  produce,
  readTopic,
  runInProcess,
  scenario,
  separatedMixture,
} from './worker-harness.js';
import type { ReadMessage, WorkerScenario } from './worker-harness.js';

/**
 * The bootstrap window holds two of the three clusters (k = 3 splits one of them); the stream then
 * brings all three. A shadow retrained on the stream sample partitions the recent records better,
 * and is promoted.
 */
function driftingMessages(): { key: string; value: string }[] {
  const { points, labels } = separatedMixture(1500, { seed: 3 });
  const messages: { key: string; value: string }[] = [];
  let bootstrap = 0;
  for (let i = 0; i < points.length; i++) {
    const label = labels[i] as number;
    const early = bootstrap < 150;
    if (early && label === 2) continue;
    if (early) bootstrap++;
    const value = JSON.stringify(mixtureRecord(i, points[i] as number[], label));
    messages.push({ key: `k${messages.length}`, value });
  }
  return messages;
}

/**
 * Produces `messages` in steps, as a live stream arrives (a shadow trains while records keep
 * coming), until a shadow is promoted, then 150 more; returns every labelled record.
 */
async function feedUntilPromoted(
  s: WorkerScenario,
  messages: { key: string; value: string }[],
  retrains: readonly RetrainReport[],
): Promise<ReadMessage[]> {
  let sent = 0;
  for (const upTo of [450, 600, 750, 900, 1050, 1200]) {
    await produce(s.kafka, s.input, messages.slice(sent, upTo));
    sent = upTo;
    await readTopic(s.kafka, s.output, sent, { settleMs: 0 });
    if (retrains.some((r) => r.outcome === 'promoted')) break;
    await waitFor(
      () => retrains.length > 0 && retrains.length % 2 === 0,
      60_000,
      'a shadow judged',
    ).catch(() => undefined);
  }
  await produce(s.kafka, s.input, messages.slice(sent, sent + 150));
  sent += 150;
  return readTopic(s.kafka, s.output, sent, { settleMs: 500 });
}

void test('a retrained shadow is promoted between units: every record is labelled by the whole version in its header, and old clusters keep their ids', async (t) => {
  const s = await scenario(t);
  const retrains: RetrainReport[] = [];
  const observer = { ...silentObserver, retrain: (r: RetrainReport) => retrains.push(r) };
  const messages = driftingMessages();
  const worker = await runInProcess(
    t,
    s.env({
      DEC_REFINE_EVERY_RECORDS: '100',
      DEC_REFINE_LEARNING_RATE: '0.001',
      DEC_MIN_CLUSTER_SHARE: '0',
      DEC_RETRAIN_EVERY_RECORDS: '200',
      DEC_RETRAIN_SAMPLE_RECORDS: '300',
      DEC_RETRAIN_SAMPLE_HALF_LIFE_RECORDS: '0',
      DEC_RETRAIN_HOLDOUT_RECORDS: '100',
      DEC_SNAPSHOT_KEEP: '100',
    }),
    observer,
  );
  const out = await feedUntilPromoted(s, messages, retrains);
  await worker.close();

  const promoted = retrains.find((r) => r.outcome === 'promoted');
  assert.ok(promoted !== undefined, `outcomes: ${retrains.map((r) => r.outcome).join(', ')}`);
  const store = new FsModelStore(s.modelDir);
  const snapshots = new Map<number, ModelSnapshot>();
  for (const version of await store.versions())
    snapshots.set(version, decodeSnapshot(await readFile(store.fileFor(version))));
  const promotions = [...snapshots.values()].filter((v) => v.metrics.promotion !== undefined);
  assert.ok(promotions.length > 0, 'the promoted version was saved with its evidence');
  for (const p of promotions) assert.equal(p.metrics.promotion?.idMapping.overlap.length, 3);

  // One partition, offset order: versions never go back, and each record's label is what the whole
  // version in its header gives it.
  out.sort((a, b) => Number(a.offset) - Number(b.offset));
  let last = 0;
  const byVersion = new Map<number, { truth: number; cluster: number }[]>();
  const models = new Map<number, ModelVersion>();
  for (const message of out) {
    const version = Number(message.headers['dec-model-version']);
    assert.ok(version >= last, `version ${version} after ${last} at offset ${message.offset}`);
    last = version;
    const value = JSON.parse(message.value?.toString() ?? '{}') as Record<string, number>;
    const snapshot = snapshots.get(version);
    assert.ok(snapshot !== undefined, `version ${version} is stored`);
    const model = models.get(version) ?? new ModelVersion(snapshot);
    models.set(version, model);
    const index = model.assignRecords([value]).batch.cluster[0]!;
    assert.equal(model.clusterIds[index], value.cluster);
    const list = byVersion.get(version) ?? [];
    list.push({ truth: value.truth as number, cluster: value.cluster as number });
    byVersion.set(version, list);
  }
  for (const model of models.values()) model.dispose();
  const promotedTo = promotions.find((p) => byVersion.has(p.version));
  assert.ok(promotedTo !== undefined, 'records were labelled by a promoted version');

  // A cluster the version before the promotion held whole (one id with nearly all of one truth's
  // records) keeps that id. (The bootstrap saw two truths with k = 3 and split one of them: that
  // one's records are spread over two ids before the retrain, so no single id can be kept.)
  const majority = (version: number, truth: number): { id: number; share: number } | undefined => {
    const counts = new Map<number, number>();
    let total = 0;
    for (const r of byVersion.get(version) ?? []) {
      if (r.truth !== truth) continue;
      counts.set(r.cluster, (counts.get(r.cluster) ?? 0) + 1);
      total++;
    }
    const [id, count] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
    return id === undefined || count === undefined ? undefined : { id, share: count / total };
  };
  const before = Math.max(...[...byVersion.keys()].filter((v) => v < promotedTo.version));
  const whole = [0, 1].filter((truth) => (majority(before, truth)?.share ?? 0) >= 0.9);
  assert.ok(whole.length > 0, `version ${before} held one of the known clusters whole`);
  for (const truth of whole) {
    assert.equal(
      majority(promotedTo.version, truth)?.id,
      majority(before, truth)?.id,
      `truth ${truth}`,
    );
  }
  // A cluster the promotion found to be a new group (the third truth, which the bootstrap never
  // saw, when the old ids held it only in part) is published under an id no earlier record
  // carried, and the id it retired labels nothing from then on.
  const idsOf = (version: number): Set<number> =>
    new Set((byVersion.get(version) ?? []).map((r) => r.cluster));
  const earlier = [...byVersion.keys()].filter((v) => v < promotedTo.version);
  for (const { retired, id } of promotedTo.metrics.promotion?.idMapping.renewed ?? []) {
    for (const v of earlier) assert.equal(idsOf(v).has(id), false, `id ${id} in version ${v}`);
    assert.equal(idsOf(promotedTo.version).has(retired), false, `retired id ${retired}`);
  }
});

void test('with refinement off, the worker still retrains on its sample and promotes a better shadow', async (t) => {
  const s = await scenario(t);
  const retrains: RetrainReport[] = [];
  let refinements = 0;
  const observer = {
    ...silentObserver,
    retrain: (r: RetrainReport) => retrains.push(r),
    refinement: () => {
      refinements++;
    },
  };
  const worker = await runInProcess(
    t,
    s.env({
      DEC_REFINE_EVERY_RECORDS: '0',
      DEC_REFINE_WINDOW: '100',
      DEC_RETRAIN_EVERY_RECORDS: '200',
      DEC_RETRAIN_SAMPLE_RECORDS: '300',
      DEC_RETRAIN_SAMPLE_HALF_LIFE_RECORDS: '0',
      DEC_RETRAIN_HOLDOUT_RECORDS: '100',
    }),
    observer,
  );
  const out = await feedUntilPromoted(s, driftingMessages(), retrains);
  await worker.close();
  assert.ok(
    retrains.some((r) => r.outcome === 'promoted'),
    `outcomes: ${retrains.map((r) => r.outcome).join(', ')}`,
  );
  assert.equal(refinements, 0, 'no refinement ran');
  const versions = new Set(out.map((m) => Number(m.headers['dec-model-version'])));
  assert.ok(
    versions.size > 1,
    `records were labelled by the promoted version too: ${[...versions].join(', ')}`,
  );
});

/** Counts the records the worker hands its refiner, by whether the serving model trained on them. */
class CountingRefiner implements ModelRefiner {
  trainedOn = 0;
  unseen = 0;
  start(): void {}
  observe(
    x: Matrix,
    _assignment: AssignmentBatch,
    _modelVersion: number,
    seen?: { readonly trainedOn?: boolean },
  ): void {
    if (seen?.trainedOn === true) this.trainedOn += x.rows;
    else this.unseen += x.rows;
  }
  poll(): undefined {
    return undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

void test('the refiner gets the bootstrap window as records the model trained on (they do not make a retrain due), and later records as unseen', async (t) => {
  const s = await scenario(t);
  const { range } = mixtureMessages(230);
  await produce(s.kafka, s.input, range(0, 230));
  const refiner = new CountingRefiner();
  const worker = await startWorker(loadConfig(s.env()), {
    logger: silentLogger,
    http: false,
    refiner,
  });
  t.after(() => worker.close());
  await readTopic(s.kafka, s.output, 230, { settleMs: 0 });
  await worker.close();
  // DEC_BOOTSTRAP_RECORDS is 150 in these scenarios.
  assert.deepEqual(
    { trainedOn: refiner.trainedOn, unseen: refiner.unseen },
    { trainedOn: 150, unseen: 80 },
  );
});
