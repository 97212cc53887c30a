import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initBackend } from '../../../src/model/backend.js';
import type { Matrix, ModelSnapshot } from '../../../src/model/types.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import { FsModelStore } from '../../../src/store/fs-model-store.js';
import type { RefinementReport, WorkerObserver } from '../../../src/worker/observer.js';
import { silentObserver } from '../../../src/worker/observer.js';
import type { RefinerOptions } from '../../../src/worker/refiner/refiner.js';
import { Refiner } from '../../../src/worker/refiner/refiner.js';
import {
  blobs,
  labelAndObserve,
  quickRetrainOptions,
  sliceRows,
  tinySnapshot,
} from '../../fixtures/refinement.js';

/** An observer that remembers what refinement reported. */
function recordingObserver(): WorkerObserver & {
  refinements: RefinementReport[];
  reseeded: number[];
  drifts: number;
  written: boolean[];
} {
  const seen = {
    refinements: [] as RefinementReport[],
    reseeded: [] as number[],
    drifts: 0,
    written: [] as boolean[],
  };
  return Object.assign(seen, {
    ...silentObserver,
    refinement: (report: RefinementReport) => seen.refinements.push(report),
    clusterReseeded: (cluster: number) => seen.reseeded.push(cluster),
    drift: () => {
      seen.drifts++;
    },
    snapshotWritten: (ok: boolean) => seen.written.push(ok),
  });
}

const baseOptions: RefinerOptions = {
  everyRecords: 1_000_000,
  intervalMs: 3_600_000,
  windowRecords: 600,
  halfLifeRecords: 2000,
  backend: 'cpu',
  threadNice: 0,
  settings: { learningRate: 0.5, steps: 10, batchSize: 64, minClusterShare: 0.01 },
};

/** Retrain as soon as the cluster mix has drifted (PSI above 0.1), with a quick network. */
const retrainOnDrift = {
  psiThreshold: 0.1,
  sustainMs: 0,
  cooldownMs: 3_600_000,
  options: quickRetrainOptions,
};

/** Blob centres for a stream that brings two thirds of its records from the first cluster. */
const mostlyFirstBlob: readonly (readonly [number, number])[] = [
  [-4, 0],
  [-4, 0],
  [-4, 0],
  [-4, 0],
  [4, 0],
  [0, 5],
];

/**
 * A Refiner that retrains on drift, started on a model whose bootstrap saw three equal clusters
 * (a stream from `mostlyFirstBlob` then drifts); its log lines are collected.
 */
async function startedOnEqualClusters(
  t: { after: (fn: () => Promise<void>) => void },
  options: Partial<RefinerOptions>,
): Promise<{ refiner: Refiner; initial: ModelSnapshot; lines: string[] }> {
  const lines: string[] = [];
  const refiner = new Refiner(
    { ...baseOptions, halfLifeRecords: 50, rebootstrap: retrainOnDrift, ...options },
    silentObserver,
    { log: (line) => lines.push(line) },
  );
  t.after(() => refiner.close());
  const initial = tinySnapshot([-4, 0, 4, 0, 0, 5], [100, 100, 100]);
  await refiner.start(initial);
  return { refiner, initial, lines };
}

void describe('Refiner (through the refinement thread)', () => {
  const dirs: string[] = [];
  before(async () => {
    await initBackend('cpu');
  });
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  void test('a refinement in the thread lowers the KL loss and publishes version + 1 to poll and onVersion', async (t) => {
    const observer = recordingObserver();
    const refiner = new Refiner(baseOptions, observer);
    t.after(() => refiner.close());
    const initial = tinySnapshot([-3, 0.5, 3, -0.5, 0.5, 4]);
    await refiner.start(initial);
    const versions: number[] = [];
    refiner.onVersion((s) => versions.push(s.version));
    labelAndObserve(refiner, initial, blobs(100, 11).x);
    const outcome = await refiner.refineNow();
    assert.ok(outcome !== undefined);
    assert.equal(outcome.accepted, true, outcome.detail);
    assert.ok(outcome.loss < outcome.lossBefore, `loss ${outcome.loss} >= ${outcome.lossBefore}`);
    assert.deepEqual(versions, [2]);
    assert.equal(refiner.current().version, 2);
    assert.equal(refiner.poll()?.version, 2);
    assert.equal(refiner.poll(), undefined, 'a version is handed out once');
    assert.equal(observer.refinements.length, 1);
    assert.equal(observer.refinements[0]?.accepted, true);
    assert.ok(observer.drifts >= 1, 'drift is reported after a refinement');
  });

  void test('a NaN refinement is rejected, reported with its reason, and the old version keeps serving', async (t) => {
    const observer = recordingObserver();
    const lines: string[] = [];
    const refiner = new Refiner(baseOptions, observer, { log: (line) => lines.push(line) });
    t.after(() => refiner.close());
    const initial = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    await refiner.start(initial);
    const { x } = blobs(40, 12);
    x.data[3] = NaN;
    labelAndObserve(refiner, initial, x);
    const outcome = await refiner.refineNow();
    assert.equal(outcome?.accepted, false);
    assert.equal(outcome?.reason, 'nan');
    assert.equal(refiner.poll(), undefined);
    assert.equal(refiner.current(), initial);
    assert.deepEqual(
      observer.refinements.map((r) => [r.accepted, r.rejectReason]),
      [[false, 'nan']],
    );
    assert.ok(
      lines.some((line) => line.includes('rejected') && line.includes('version 1 keeps serving')),
      lines.join('\n'),
    );
  });

  void test('a dying cluster is re-seeded by splitting the largest, and the event is reported', async (t) => {
    const observer = recordingObserver();
    const lines: string[] = [];
    const refiner = new Refiner({ ...baseOptions, halfLifeRecords: 50 }, observer, {
      log: (line) => lines.push(line),
    });
    t.after(() => refiner.close());
    // Cluster 2 sits far from every record: its share decays towards zero.
    const initial = tinySnapshot([-4, 0, 4, 0, 40, 40]);
    await refiner.start(initial);
    labelAndObserve(
      refiner,
      initial,
      blobs(150, 13, [
        [-4, 0],
        [4, 0],
        [4.5, 2.5],
      ]).x,
    );
    const outcome = await refiner.refineNow();
    assert.equal(outcome?.accepted, true, outcome?.detail);
    assert.deepEqual(observer.reseeded, [2]);
    assert.equal(outcome?.reseeded[0]?.cluster, 2);
    const c = refiner.current().parameters.centroids;
    assert.ok(
      Math.hypot((c[4] ?? 0) - 4, (c[5] ?? 0) - 1) < 3,
      `re-seeded centroid at ${c[4]}, ${c[5]}`,
    );
    assert.ok(lines.some((line) => line.includes('re-seeded')));
    const shares = refiner.shares();
    assert.ok(
      shares !== undefined && (shares[2] ?? 0) > 0.1,
      'the re-seeded cluster got half the donor weight',
    );
  });

  void test('a version swap is atomic: every batch is labelled by exactly one whole version', async (t) => {
    const refiner = new Refiner(
      { ...baseOptions, everyRecords: 60, intervalMs: 10 },
      silentObserver,
    );
    t.after(() => refiner.close());
    const initial = tinySnapshot([-3, 1, 3, -1, 1, 4]);
    await refiner.start(initial);
    const published = new Map<number, { snapshot: ModelSnapshot; centroids: number[] }>([
      [1, { snapshot: initial, centroids: Array.from(initial.parameters.centroids) }],
    ]);
    refiner.onVersion((s) =>
      published.set(s.version, { snapshot: s, centroids: Array.from(s.parameters.centroids) }),
    );
    const { x } = blobs(400, 14);
    let serving = initial;
    const labelled: { version: number; batch: Matrix; labels: Int32Array }[] = [];
    for (let start = 0; start + 30 <= x.rows; start += 30) {
      serving = refiner.poll() ?? serving;
      const batch = sliceRows(x, start, 30);
      const assignment = labelAndObserve(refiner, serving, batch);
      labelled.push({ version: serving.version, batch, labels: assignment.cluster });
      // Let the thread's messages in between batches, as the event loop does in the worker.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await refiner.whenIdle();
    const versions = new Set(labelled.map((l) => l.version));
    assert.ok(versions.size >= 2, `the run swapped versions (${[...versions].join(', ')})`);
    for (const { version, batch, labels } of labelled) {
      const entry = published.get(version);
      assert.ok(entry !== undefined, `version ${version} was published`);
      assert.deepEqual(
        Array.from(entry.snapshot.parameters.centroids),
        entry.centroids,
        'a published version never changes',
      );
      const check = ModelVersion.ofParameters(entry.snapshot.parameters);
      assert.deepEqual(Array.from(check.assign(batch).cluster), Array.from(labels));
      check.dispose();
    }
  });

  void test('a restart picks the newest valid snapshot from the FsModelStore and skips a corrupted one', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'dec-refiner-'));
    dirs.push(dir);
    const store = new FsModelStore(dir, { keep: 3 });
    const observer = recordingObserver();
    const refiner = new Refiner(baseOptions, observer, { store });
    t.after(() => refiner.close());
    const initial = tinySnapshot([-3, 0.5, 3, -0.5, 0.5, 4]);
    await store.save(initial);
    await refiner.start(initial);
    const { x } = blobs(100, 15);
    for (let round = 0; round < 4; round++) {
      labelAndObserve(refiner, refiner.current(), sliceRows(x, round * 75, 75));
      const outcome = await refiner.refineNow();
      assert.equal(outcome?.accepted, true, outcome?.detail);
    }
    await refiner.close();
    assert.deepEqual(observer.written, [true, true, true, true]);
    assert.deepEqual(
      (await store.list()).map((s) => s.version),
      [3, 4, 5],
      'the store keeps the last three versions',
    );
    // Corrupt the newest file: a restart must fall back to version 4.
    const newest = store.fileFor(5);
    const bytes = await readFile(newest);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    await writeFile(newest, bytes);
    const restored = await new FsModelStore(dir).loadLatest();
    assert.equal(restored?.version, 4);
    const restarted = new Refiner(baseOptions, silentObserver, { store });
    t.after(() => restarted.close());
    assert.ok(restored !== undefined);
    await restarted.start(restored);
    labelAndObserve(restarted, restored, sliceRows(x, 0, 150));
    const next = await restarted.refineNow();
    assert.equal(next?.snapshot?.version, 5, 'refinement resumes from the restored version');
  });

  void test('refinement off (everyRecords 0) serves a frozen model and still reports drift', async (t) => {
    const observer = recordingObserver();
    const refiner = new Refiner({ ...baseOptions, everyRecords: 0, windowRecords: 50 }, observer);
    t.after(() => refiner.close());
    const initial = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    await refiner.start(initial);
    labelAndObserve(refiner, initial, blobs(40, 16).x);
    assert.equal(refiner.enabled, false);
    assert.equal(await refiner.refineNow(), undefined);
    assert.equal(refiner.poll(), undefined);
    assert.equal(refiner.current(), initial);
    assert.ok(observer.drifts >= 1);
  });

  void test('a refinement starts by itself once everyRecords records have been observed', async (t) => {
    const refiner = new Refiner({ ...baseOptions, everyRecords: 90 }, silentObserver);
    t.after(() => refiner.close());
    const initial = tinySnapshot([-3, 0.5, 3, -0.5, 0.5, 4]);
    await refiner.start(initial);
    const next = new Promise<number>((resolve) => refiner.onVersion((s) => resolve(s.version)));
    const { x } = blobs(30, 17);
    labelAndObserve(refiner, initial, sliceRows(x, 0, 60));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(refiner.poll(), undefined, 'not due before 90 records');
    labelAndObserve(refiner, initial, sliceRows(x, 60, 30));
    assert.equal(await next, 2);
  });

  void test('sustained drift makes the next refinement a retrain with the old cluster ids', async (t) => {
    const { refiner, initial, lines } = await startedOnEqualClusters(t, {
      settings: { ...baseOptions.settings, minClusterShare: 0 },
    });
    const { x } = blobs(50, 18, mostlyFirstBlob);
    labelAndObserve(refiner, initial, x);
    const first = await refiner.refineNow();
    assert.equal(first?.kind, 'refine');
    assert.ok((refiner.drift()?.psi ?? 0) > 0.1, `PSI ${refiner.drift()?.psi}`);
    labelAndObserve(refiner, refiner.current(), sliceRows(x, 0, 100));
    const second = await refiner.refineNow();
    assert.equal(second?.kind, 'rebootstrap');
    assert.equal(second?.accepted, true, second?.detail);
    assert.equal(refiner.current().version, 3);
    assert.equal(refiner.current().parameters.encoder[0]?.outputSize, 8, 'a retrained network');
    const before = ModelVersion.ofParameters(initial.parameters);
    const after = ModelVersion.ofParameters(refiner.current().parameters);
    const sample = sliceRows(x, 0, 300);
    const oldLabels = before.assign(sample).cluster;
    const newLabels = after.assign(sample).cluster;
    before.dispose();
    after.dispose();
    let same = 0;
    for (let i = 0; i < sample.rows; i++) if (oldLabels[i] === newLabels[i]) same++;
    assert.ok(same / sample.rows > 0.9, `${same} of ${sample.rows} records kept their id`);
    assert.ok(lines.some((line) => line.includes('re-bootstrapped')));
  });

  void test('with refinement off, sustained drift still re-bootstraps the model', async (t) => {
    const { refiner, lines } = await startedOnEqualClusters(t, {
      everyRecords: 0,
      windowRecords: 50,
    });
    const { x } = blobs(25, 19, mostlyFirstBlob);
    for (let start = 0; start < x.rows; start += 50) {
      labelAndObserve(refiner, refiner.current(), sliceRows(x, start, 50));
      await refiner.whenIdle();
    }
    assert.equal(refiner.enabled, false);
    const next = refiner.poll();
    assert.equal(next?.version, 2, lines.join('\n'));
    assert.equal(next.parameters.encoder[0]?.outputSize, 8, 'a retrained network');
    assert.ok(lines.some((line) => line.includes('re-bootstrapped')));
  });

  void test('observed feature buffers are transferred to the thread, not copied', async (t) => {
    const refiner = new Refiner(baseOptions, silentObserver);
    t.after(() => refiner.close());
    const initial = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    await refiner.start(initial);
    const { x } = blobs(30, 19);
    const assigner = ModelVersion.ofParameters(initial.parameters);
    refiner.observe(x, assigner.assign(x), 1);
    assigner.dispose();
    assert.equal(
      x.data.byteLength,
      90 * 2 * 4,
      'the batch waits on this thread until a refinement',
    );
    await refiner.refineNow();
    assert.equal(x.data.byteLength, 0, 'the buffer moved to the refinement thread');
  });
});
