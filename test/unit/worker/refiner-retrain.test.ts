import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initBackend } from '../../../src/model/backend.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import type { Matrix, ModelSnapshot } from '../../../src/model/types.js';
import { FsModelStore } from '../../../src/store/fs-model-store.js';
import type { RetrainReport, WorkerObserver } from '../../../src/worker/observer.js';
import { silentObserver } from '../../../src/worker/observer.js';
import type { RefinerOptions, RetrainPolicy } from '../../../src/worker/refiner/refiner.js';
import { Refiner } from '../../../src/worker/refiner/refiner.js';
import {
  blobs,
  labelAndObserve,
  quickRetrainOptions,
  sliceRows,
  tinySnapshot,
} from '../../fixtures/refinement.js';

const shadowTraining = quickRetrainOptions;

/** Fixing the poor model below moves half of one blob from one kept id to another (no cap). */
const retrain: RetrainPolicy = {
  everyRecords: 0,
  sampleRecords: 150,
  sampleHalfLifeRecords: 0,
  holdoutRecords: 90,
  promotionMargin: 0.05,
  options: shadowTraining,
};

// Refinement barely moves the centroids here, so what changes the model is the retrain.
const options: RefinerOptions = {
  everyRecords: 1_000_000,
  intervalMs: 3_600_000,
  windowRecords: 300,
  halfLifeRecords: 2000,
  backend: 'cpu',
  threadNice: 0,
  settings: { learningRate: 0.001, steps: 1, batchSize: 64, minClusterShare: 0, kmeansSteps: [] },
  retrain,
};

function recording(): WorkerObserver & { retrains: RetrainReport[] } {
  const retrains: RetrainReport[] = [];
  return Object.assign(
    { ...silentObserver, retrain: (r: RetrainReport) => retrains.push(r) },
    { retrains },
  );
}

/** Serving: two centroids in the left blob and none near the top one, a poor partition. */
const poor = (): ModelSnapshot => tinySnapshot([-4, 0, -3, 0, 4, 0]);

void describe('Refiner background retrain', () => {
  const dirs: string[] = [];
  before(async () => {
    await initBackend('cpu');
  });
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  void test('a shadow worse than the serving version is discarded, with a metric and a log line', async (t) => {
    const observer = recording();
    const lines: string[] = [];
    const refiner = new Refiner(options, observer, { log: (line) => lines.push(line) });
    t.after(() => refiner.close());
    const initial = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    await refiner.start(initial);
    // The sample only ever holds the right-hand blob: the shadow splits it in three.
    labelAndObserve(refiner, initial, blobs(150, 41, [[4, 0]], 1.2).x);
    const trained = await refiner.refineNow('retrain');
    assert.equal(trained?.kind, 'retrain');
    assert.equal(trained?.accepted, true, trained?.detail);
    labelAndObserve(refiner, initial, blobs(30, 42).x);
    const judged = await refiner.refineNow();
    assert.equal(judged?.kind, 'promotion');
    assert.equal(judged?.accepted, false);
    assert.deepEqual(
      observer.retrains.map((r) => r.outcome),
      ['trained', 'discarded'],
    );
    assert.ok((observer.retrains[1]?.shadowScore ?? 0) > (observer.retrains[1]?.servingScore ?? 1));
    assert.ok(
      lines.some((l) => /shadow model discarded, version 1 keeps serving/.test(l)),
      lines.join('\n'),
    );
    assert.equal(refiner.poll(), undefined);
    assert.equal(refiner.current(), initial);
  });

  void test('a promotion is atomic between batches, keeps the ids, and is reported with its mapping', async (t) => {
    const observer = recording();
    const lines: string[] = [];
    const refiner = new Refiner(
      { ...options, everyRecords: 30, retrain: { ...retrain, everyRecords: 150 } },
      observer,
      { log: (line) => lines.push(line) },
    );
    t.after(() => refiner.close());
    const initial = poor();
    await refiner.start(initial);
    const published = new Map<number, ModelSnapshot>([[1, initial]]);
    refiner.onVersion((s) => published.set(s.version, s));
    const { x } = blobs(300, 43);
    let serving = initial;
    const labelled: { version: number; batch: Matrix; labels: Int32Array }[] = [];
    for (let start = 0; start + 30 <= x.rows; start += 30) {
      serving = refiner.poll() ?? serving;
      const batch = sliceRows(x, start, 30);
      labelled.push({
        version: serving.version,
        batch,
        labels: labelAndObserve(refiner, serving, batch).cluster,
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      // The shadow trains while batches go on being labelled; wait between them as a stream would.
      if (start % 150 === 120) await refiner.whenIdle();
    }
    await refiner.whenIdle();
    const promotedTo = [...published.values()].find((s) => s.metrics.promotion !== undefined);
    assert.ok(promotedTo !== undefined, `a shadow was promoted: ${lines.join('\n')}`);
    assert.ok(
      labelled.some((l) => l.version === promotedTo.version),
      'the promoted version labelled batches',
    );
    for (const { version, batch, labels } of labelled) {
      const snapshot = published.get(version);
      assert.ok(snapshot !== undefined);
      const check = ModelVersion.ofParameters(snapshot.parameters);
      assert.deepEqual(Array.from(check.labels(batch)), Array.from(labels), `version ${version}`);
      check.dispose();
    }
    // The right-hand blob had id 2 before and keeps it.
    const check = ModelVersion.ofParameters(promotedTo.parameters);
    assert.equal(check.labels({ data: Float32Array.from([4, 0]), rows: 1, cols: 2 })[0], 2);
    check.dispose();
    const report = observer.retrains.find((r) => r.outcome === 'promoted');
    assert.ok(report?.labelChangeRatio !== undefined && report.labelChangeRatio < 0.5);
    assert.ok(
      lines.some((l) => /promoted as version \d+ .*ids: .*2←/.test(l)),
      lines.join('\n'),
    );
  });

  void test('records the serving model trained on join the sample but do not make a retrain due', async (t) => {
    const observer = recording();
    const refiner = new Refiner(
      {
        ...options,
        everyRecords: 30,
        retrain: { ...retrain, everyRecords: 150, sampleRecords: 1000 },
      },
      observer,
    );
    t.after(() => refiner.close());
    const initial = poor();
    await refiner.start(initial);
    const { x } = blobs(450, 46);
    // The bootstrap window, replayed as the worker labels it once its model serves.
    for (let start = 0; start < 300; start += 30) {
      labelAndObserve(refiner, initial, sliceRows(x, start, 30), { trainedOn: true });
      await refiner.whenIdle();
    }
    assert.equal(observer.retrains.length, 0, 'no retrain on the records the model trained on');
    for (let start = 300; start < 450; start += 30) {
      labelAndObserve(refiner, initial, sliceRows(x, start, 30));
      await refiner.whenIdle();
    }
    assert.deepEqual(
      observer.retrains.map((r) => [r.outcome, r.trainedOnRecords]),
      [['trained', 450]],
    );
  });

  void test('with refinement off, the retrain still trains, judges and promotes a shadow, and nothing is refined', async (t) => {
    const observer = recording();
    let refinements = 0;
    observer.refinement = () => {
      refinements++;
    };
    const lines: string[] = [];
    const refiner = new Refiner(
      {
        ...options,
        everyRecords: 0,
        windowRecords: 60,
        retrain: { ...retrain, everyRecords: 150 },
      },
      observer,
      { log: (line) => lines.push(line) },
    );
    t.after(() => refiner.close());
    const initial = poor();
    await refiner.start(initial);
    const versions = new Set<number>([initial.version]);
    const { x } = blobs(100, 47);
    let serving = initial;
    for (let start = 0; start + 30 <= x.rows; start += 30) {
      serving = refiner.poll() ?? serving;
      versions.add(serving.version);
      labelAndObserve(refiner, serving, sliceRows(x, start, 30));
      await refiner.whenIdle();
    }
    serving = refiner.poll() ?? serving;
    assert.deepEqual(
      observer.retrains.map((r) => r.outcome),
      ['trained', 'promoted'],
      lines.join('\n'),
    );
    assert.equal(refinements, 0, 'no refinement ran');
    assert.equal(serving.metrics.promotion !== undefined, true, 'the promoted shadow serves');
  });

  void test('a restart during a retrain resumes with the serving version', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'dec-retrain-'));
    dirs.push(dir);
    const store = new FsModelStore(dir);
    const initial = poor();
    await store.save(initial);
    const slow = {
      ...retrain,
      options: { ...shadowTraining, pretrainEpochs: 20_000, earlyStopPatience: 20_000 },
    };
    const refiner = new Refiner({ ...options, retrain: slow }, silentObserver, { store });
    await refiner.start(initial);
    labelAndObserve(refiner, initial, blobs(60, 44).x);
    const inFlight = refiner.refineNow('retrain');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The process goes down mid-retrain.
    await refiner.close();
    assert.equal(await inFlight, undefined, 'the retrain never finished');
    assert.deepEqual(await readdir(dir), [store.fileFor(1).split('/').pop()]);
    const restored = await new FsModelStore(dir).loadLatest();
    assert.equal(restored?.version, 1);
    assert.ok(restored !== undefined);
    const restarted = new Refiner(options, silentObserver, { store });
    t.after(() => restarted.close());
    await restarted.start(restored);
    assert.equal(restarted.current().version, 1, 'the serving version serves again');
    labelAndObserve(restarted, restored, blobs(60, 45).x);
    const next = await restarted.refineNow('refine');
    assert.equal(next?.kind, 'refine');
  });

  void test('a cap holds back a shadow that moves records between kept ids, unless sustained drift started it', async (t) => {
    const capped: RetrainPolicy = { ...retrain, maxReassignedShare: 0.02 };
    const { x } = blobs(50, 48);
    const holdout = blobs(30, 49).x;
    // By count: the shadow is better, but it would move a sixth of the records from id 1 to id 0.
    const observer = recording();
    const lines: string[] = [];
    const byCount = new Refiner({ ...options, retrain: capped }, observer, {
      log: (line) => lines.push(line),
    });
    t.after(() => byCount.close());
    await byCount.start(poor());
    labelAndObserve(byCount, byCount.current(), x);
    assert.equal((await byCount.refineNow('retrain'))?.accepted, true);
    labelAndObserve(byCount, byCount.current(), holdout);
    const judged = await byCount.refineNow();
    assert.equal(judged?.kind, 'promotion');
    assert.equal(judged?.accepted, false);
    assert.equal(judged?.reason, 'relabel-cap');
    const report = observer.retrains.find((r) => r.outcome === 'discarded');
    assert.ok((report?.reassignedShare ?? 0) > 0.02, `moved ${report?.reassignedShare}`);
    assert.ok(
      lines.some((l) => /discarded, version 1 keeps serving: .*above the cap of 2\.0%/.test(l)),
      lines.join('\n'),
    );
    // By drift: the bootstrap put two thirds of its records in the right-hand cluster, so the
    // stream's mix (a third there) drifts from it at once, the retrain is drift's, and its shadow
    // is promoted.
    const onDrift = new Refiner(
      {
        ...options,
        halfLifeRecords: 50,
        rebootstrap: { psiThreshold: 0.1, sustainMs: 0, options: shadowTraining },
        retrain: capped,
      },
      silentObserver,
    );
    t.after(() => onDrift.close());
    await onDrift.start(tinySnapshot([-4, 0, -3, 0, 4, 0], [100, 100, 400]));
    labelAndObserve(onDrift, onDrift.current(), x);
    assert.equal((await onDrift.refineNow())?.kind, 'refine');
    assert.ok((onDrift.drift()?.psi ?? 0) > 0.1, `PSI ${onDrift.drift()?.psi}`);
    labelAndObserve(onDrift, onDrift.current(), sliceRows(x, 0, 30));
    const trained = await onDrift.refineNow();
    assert.equal(trained?.kind, 'retrain');
    labelAndObserve(onDrift, onDrift.current(), holdout);
    const promoted = await onDrift.refineNow();
    assert.equal(promoted?.kind, 'promotion');
    assert.equal(promoted?.accepted, true, promoted?.detail);
    assert.ok((promoted?.promotion?.reassignedShare ?? 0) > 0.02);
  });
});
