import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { clusteringAccuracy } from '../../../src/model/evaluation.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import {
  RefinementEngine,
  defaultRefinementSettings,
  type RetrainStart,
} from '../../../src/online/refinement-engine.js';
import type { Matrix, ModelSnapshot } from '../../../src/model/types.js';
import { blobs, quickRetrainOptions, tinySnapshot } from '../../fixtures/refinement.js';

/** The rows of `a` then those of `b`. */
function concatRows(a: Matrix, b: Matrix): Matrix {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { data, rows: a.rows + b.rows, cols: a.cols };
}

/** How many rows of x `snapshot` puts in `cluster`. */
function labelsOf(snapshot: ModelSnapshot, x: Matrix, cluster: number): number {
  const model = ModelVersion.ofParameters(snapshot.parameters);
  try {
    return model.assign(x).cluster.filter((c) => c === cluster).length;
  } finally {
    model.dispose();
  }
}

const settings = {
  ...defaultRefinementSettings,
  learningRate: 0.5,
  steps: 10,
  batchSize: 64,
  minClusterShare: 0.01,
  // These tests are about the KL step and its bounds: no competing candidates, no criterion, and
  // only the dying rule re-seeds (the fading rule has a test of its own).
  kmeansSteps: [],
  criterion: undefined,
  fadingSplitMaxValley: 0,
};

void describe('RefinementEngine', () => {
  before(async () => {
    await initBackend('cpu');
  });

  void test('a refinement lowers the KL loss on the window and produces version + 1 with the same ids', async () => {
    const snapshot = tinySnapshot([-3, 0.5, 3, -0.5, 0.5, 4]);
    const engine = new RefinementEngine(snapshot, settings);
    const { x } = blobs(60, 3);
    const tensorsBefore = tf.memory().numTensors;
    const outcome = await engine.refine(x, Float32Array.from([60, 60, 60]));
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leak');
    assert.equal(outcome.accepted, true, outcome.detail);
    assert.ok(outcome.loss < outcome.lossBefore, `loss ${outcome.loss} >= ${outcome.lossBefore}`);
    assert.equal(outcome.snapshot?.version, 2);
    assert.equal(engine.current().version, 2);
    const c = outcome.snapshot?.parameters.centroids ?? new Float32Array(6);
    // Each centroid moved towards its own blob: ids did not swap.
    assert.ok((c[0] ?? 0) < -3, `centroid 0 at ${c[0]}`);
    assert.ok((c[2] ?? 0) > 3, `centroid 1 at ${c[2]}`);
    assert.ok((c[5] ?? 0) > 4, `centroid 2 at ${c[5]}`);
    assert.deepEqual(
      Array.from(snapshot.parameters.centroids),
      [-3, 0.5, 3, -0.5, 0.5, 4],
      'input untouched',
    );
    // The new version describes the window it was made on, not the version before it.
    const stats = outcome.snapshot?.clusterStatistics;
    assert.equal(stats?.rows, x.rows);
    assert.deepEqual(
      stats?.counts,
      [0, 1, 2].map((c) =>
        outcome.snapshot === undefined ? -1 : labelsOf(outcome.snapshot, x, c),
      ),
    );
    assert.ok(stats?.members.every((m) => m.id === undefined));
    engine.dispose();
  });

  void test('a window with NaN is rejected and the engine keeps the previous version', async () => {
    const snapshot = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    const engine = new RefinementEngine(snapshot, settings);
    const { x } = blobs(20, 4);
    x.data[7] = NaN;
    const outcome = await engine.refine(x, Float32Array.from([20, 20, 20]));
    assert.equal(outcome.accepted, false);
    assert.equal(outcome.reason, 'nan');
    assert.equal(outcome.snapshot, undefined);
    assert.equal(engine.current(), snapshot);
    engine.dispose();
  });

  void test('a cluster with a dying share is re-seeded inside the largest cluster before the step', async () => {
    // Centroid 0 sits between two blobs; centroid 2 is far from every point and has almost no share.
    const snapshot = tinySnapshot([0, 0, 20, 20, -20, 20]);
    const engine = new RefinementEngine(snapshot, settings);
    const { x } = blobs(50, 5, [
      [-4, 0],
      [4, 0],
    ]);
    const outcome = await engine.refine(x, Float32Array.from([100, 0.01, 0.01]));
    assert.equal(outcome.accepted, true, outcome.detail);
    // Both far clusters were dying and were re-seeded by splitting cluster 0. The ids are then
    // matched to the served ones (Hungarian on the window's labels): id 0 goes to whichever part
    // keeps most of cluster 0's records, so the events name the ids as they are after matching.
    assert.equal(outcome.reseeded.length, 2, 'both far clusters were re-seeded');
    assert.equal(new Set(outcome.reseeded.map((e) => e.cluster)).size, 2);
    for (const e of outcome.reseeded) assert.notEqual(e.cluster, e.splitFrom);
    assert.ok(outcome.idMapping !== undefined, 'the re-seed reports its id matching');
    assert.ok((outcome.idMapping.overlap[0]?.kept ?? 0) > 0.3, 'id 0 keeps the largest part');
    const assigner = ModelVersion.ofParameters(outcome.snapshot?.parameters ?? snapshot.parameters);
    const labels = assigner.assign(x).cluster;
    assigner.dispose();
    const used = new Set(labels);
    assert.ok(used.size >= 2, 'after re-seeding the two blobs fall into different clusters');
    // Id 0 stays with one half of its old records; the other half and the far cluster, which
    // died, are new groups: each gets a fresh id, and ids 1 and 2 are retired.
    const ids = outcome.snapshot?.clusterIds ?? [];
    assert.equal(ids[0], 0);
    assert.deepEqual(outcome.idMapping.renewed?.map((r) => r.retired).sort(), [1, 2]);
    assert.deepEqual([...ids].sort(), [0, 3, 4]);
    engine.dispose();
  });

  void test('a cluster the bootstrap left small is not re-seeded while it keeps that share', async () => {
    // Same geometry, but the bootstrap itself gave clusters 1 and 2 a share of 0.5 % each.
    const centroids = [0, 0, 20, 20, -20, 20];
    const bornSmall = tinySnapshot(centroids, [990, 5, 5]);
    const sizes = Float32Array.from([99, 0.4, 0.6]);
    const { x } = blobs(50, 5, [
      [-4, 0],
      [4, 0],
    ]);
    const engine = new RefinementEngine(bornSmall, settings);
    const outcome = await engine.refine(x, sizes);
    assert.deepEqual(
      outcome.reseeded,
      [],
      'clusters 1 and 2 hold more than half their bootstrap share',
    );
    engine.dispose();
    // Once cluster 1 has lost more than half of what it was born with, it is dying.
    const shrunk = new RefinementEngine(bornSmall, settings);
    const after = await shrunk.refine(x, Float32Array.from([99, 0.2, 0.6]));
    assert.deepEqual(
      after.reseeded.map((e) => e.cluster),
      [1],
    );
    shrunk.dispose();
  });

  void test('a fading cluster is re-seeded early when the cluster that grew holds two separate groups', async () => {
    // Born with equal shares; cluster 2 holds 5 of the window's 95 records (above the dying share,
    // below half its bootstrap share), and a new group of 30 at (4, 0) has joined cluster 0's own
    // group of 60 at (-4, 0).
    const snapshot = tinySnapshot([0, 0, 20, 20, -20, 20], [100, 100, 100]);
    const x = concatRows(
      concatRows(blobs(60, 5, [[-4, 0]]).x, blobs(30, 6, [[4, 0]]).x),
      blobs(5, 7, [[-20, 20]]).x,
    );
    const sizes = Float32Array.from([70, 20, 10]);
    const fading = { ...settings, fadingSplitMaxValley: 0.3 };
    const off = new RefinementEngine(snapshot, settings);
    assert.deepEqual((await off.refine(x, sizes)).reseeded, [], 'the dying rule alone waits');
    off.dispose();
    const engine = new RefinementEngine(snapshot, fading);
    const outcome = await engine.refine(x, sizes);
    assert.equal(outcome.accepted, true, outcome.detail);
    assert.deepEqual(
      outcome.reseeded.map(({ cluster, splitFrom }) => ({ cluster, splitFrom })),
      [{ cluster: 2, splitFrom: 0 }],
    );
    assert.ok((outcome.reseeded[0]?.splitValley ?? 1) < 0.3, 'a fading re-seed states its valley');
    // The re-seeded cluster is measured against its new share from now on, not its bootstrap one.
    const baseline = outcome.snapshot?.metrics.clusterSizes ?? [];
    assert.ok(Math.abs(baseline[2]! / 300 - 30 / 95) < 0.05, `baseline ${baseline.join(', ')}`);
    const assigner = ModelVersion.ofParameters(outcome.snapshot?.parameters ?? snapshot.parameters);
    const labels = assigner.assign(x).cluster;
    assigner.dispose();
    // Each group now has a cluster of its own; cluster 0 keeps its own group and its id.
    assert.deepEqual([...new Set(labels.subarray(0, 60))], [0]);
    assert.deepEqual([...new Set(labels.subarray(60, 90))], [2]);
    // The newcomer is not what id 2 meant: it is published under a fresh id, and 2 is retired.
    assert.deepEqual(outcome.snapshot?.clusterIds, [0, 1, 3]);
    assert.deepEqual(outcome.idMapping?.renewed, [{ retired: 2, id: 3 }]);
    engine.dispose();
  });
});

void describe('RefinementEngine guards', () => {
  void test('a step that relabels more of the window than the bound allows is rejected', async () => {
    await initBackend('cpu');
    // The blob at (4, 0) sits between centroids 0 and 1: any move relabels some of its records.
    const snapshot = tinySnapshot([0.5, 0, 8, 0, 0, 5]);
    const strict = {
      ...settings,
      bounds: { ...settings.bounds, maxLabelChangeFraction: 0 },
    };
    const engine = new RefinementEngine(snapshot, strict);
    const outcome = await engine.refine(blobs(60, 9).x, Float32Array.from([60, 60, 60]));
    assert.equal(outcome.accepted, false);
    assert.equal(outcome.reason, 'label-change-bound');
    assert.ok(outcome.labelChangeFraction > 0);
    assert.equal(engine.current(), snapshot);
    engine.dispose();
  });
});

void describe('RefinementEngine guards after a re-seed', () => {
  void test('a re-seed does not exempt the step after it from the label-change bound', async () => {
    await initBackend('cpu');
    // As in the re-seed test: both far clusters die and are re-seeded in the largest one. A huge
    // step then throws the labels around; with a bound of 0 any such change must be refused.
    const snapshot = tinySnapshot([0, 0, 20, 20, -20, 20]);
    const { x } = blobs(50, 5, [
      [-4, 0],
      [4, 0],
    ]);
    const reckless = {
      ...settings,
      learningRate: 50,
      bounds: {
        ...settings.bounds,
        maxLabelChangeFraction: 0,
        maxLossRatio: Infinity,
        maxRelativeCentroidShift: Infinity,
      },
    };
    const engine = new RefinementEngine(snapshot, reckless);
    const outcome = await engine.refine(x, Float32Array.from([100, 0.01, 0.01]));
    assert.equal(outcome.accepted, false, 'accepted a step that relabelled the window');
    assert.equal(outcome.reason, 'label-change-bound');
    assert.match(outcome.detail ?? '', /in the step after re-seeding/);
    assert.equal(engine.current(), snapshot);
    engine.dispose();
  });
});

void describe('RefinementEngine.rebootstrap', () => {
  void test('a retrain on the window keeps the old cluster ids by matching assignment overlap', async () => {
    await initBackend('cpu');
    const snapshot = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    const engine = new RefinementEngine(snapshot, settings);
    const { x } = blobs(60, 8);
    const before = ModelVersion.ofParameters(snapshot.parameters);
    const oldLabels = before.assign(x).cluster;
    before.dispose();
    const outcome = await engine.rebootstrap(x, quickRetrainOptions);
    assert.equal(outcome.kind, 'rebootstrap');
    assert.equal(outcome.accepted, true, outcome.detail);
    assert.equal(outcome.snapshot?.version, 2);
    assert.equal(outcome.snapshot?.parameters.encoder[0]?.outputSize, 8, 'a new network');
    const after = ModelVersion.ofParameters(outcome.snapshot?.parameters ?? snapshot.parameters);
    const newLabels = after.assign(x).cluster;
    after.dispose();
    let same = 0;
    for (let i = 0; i < x.rows; i++) if (oldLabels[i] === newLabels[i]) same++;
    assert.ok(
      same / x.rows > 0.9,
      `only ${same} of ${x.rows} records kept their cluster id: ${Array.from(newLabels.slice(0, 12)).join(',')} vs ${Array.from(oldLabels.slice(0, 12)).join(',')}`,
    );
    assert.ok(outcome.labelChangeFraction < 0.1);
    engine.dispose();
  });
});

void describe('RefinementEngine shadow retrain and promotion', () => {
  const training = quickRetrainOptions;

  void test('a shadow worse than the serving model on fresh records is discarded, and the serving version stays', async () => {
    await initBackend('cpu');
    const snapshot = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    const engine = new RefinementEngine(snapshot, settings);
    // The shadow only ever saw one blob, so it splits it in three: useless on the real stream.
    const oneBlob = blobs(150, 21, [[4, 0]], 1.2).x;
    const trained = await engine.trainShadow(oneBlob, training);
    assert.equal(trained.kind, 'retrain');
    assert.equal(trained.accepted, true, trained.detail);
    assert.equal(engine.hasShadow(), true);
    const outcome = await engine.judgeShadow(blobs(80, 22).x, 0.05);
    assert.equal(outcome.kind, 'promotion');
    assert.equal(outcome.accepted, false);
    assert.equal(outcome.reason, 'not-better');
    assert.ok((outcome.promotion?.shadowScore ?? 0) > (outcome.promotion?.servingScore ?? 1));
    assert.equal(outcome.snapshot, undefined);
    assert.equal(engine.current().version, 1);
    assert.equal(engine.hasShadow(), false, 'a judged shadow is gone');
    engine.dispose();
  });

  void test('a better shadow is promoted as the next version with the serving ids kept', async () => {
    await initBackend('cpu');
    // Serving: two centroids in one blob and none near the third: a poor partition.
    const snapshot = tinySnapshot([-4, 0, -3, 0, 4, 0]);
    const engine = new RefinementEngine(snapshot, settings);
    await engine.trainShadow(blobs(100, 31).x, training);
    const holdout = blobs(80, 32).x;
    // The fix moves half of the left blob from id 1 to id 0, both ids kept: no cap (the default).
    const outcome = await engine.judgeShadow(holdout, 0.05);
    assert.equal(outcome.accepted, true, outcome.detail);
    assert.ok((outcome.promotion?.reassignedShare ?? 0) > 0.1, 'half a blob changed ids');
    assert.equal(outcome.snapshot?.version, 2);
    const record = outcome.snapshot?.metrics.promotion;
    assert.equal(record?.replacedVersion, 1);
    assert.equal(record?.judgedOnRecords, holdout.rows);
    assert.equal(record?.idMapping.overlap.length, 3);
    // Matched ids: the blob at (4, 0), id 2 before, is still id 2.
    const served = ModelVersion.ofParameters(outcome.snapshot?.parameters ?? snapshot.parameters);
    const right = served.labels({ data: Float32Array.from([4, 0]), rows: 1, cols: 2 });
    served.dispose();
    assert.equal(right[0], 2);
    assert.equal(engine.current().version, 2);
    engine.dispose();
  });

  void test('a better shadow that would move more records between kept ids than the cap is discarded', async () => {
    await initBackend('cpu');
    const snapshot = tinySnapshot([-4, 0, -3, 0, 4, 0]);
    const engine = new RefinementEngine(snapshot, settings);
    await engine.trainShadow(blobs(100, 31).x, training);
    const outcome = await engine.judgeShadow(blobs(80, 32).x, 0.05, {
      charge: 0,
      maxReassignedShare: 0.02,
    });
    assert.equal(outcome.kind, 'promotion');
    assert.equal(outcome.accepted, false, 'the cap holds it back');
    assert.equal(outcome.reason, 'relabel-cap');
    assert.ok(
      (outcome.promotion?.shadowScore ?? 1) < (outcome.promotion?.servingScore ?? 0),
      'better by the criterion',
    );
    const share = outcome.promotion?.reassignedShare ?? 0;
    assert.ok(share > 0.02, `moved ${share}`);
    assert.match(outcome.detail ?? '', /between ids both versions keep, above the cap of 2\.0%/);
    assert.equal(engine.current().version, 1);
    engine.dispose();
  });

  void test('a shadow that starts from the serving labels comes out in the serving ids', async () => {
    await initBackend('cpu');
    // The blobs at (0, 5), (-4, 0) and (4, 0) under ids 0, 1 and 2.
    const snapshot = tinySnapshot([0, 5, -4, 0, 4, 0]);
    const permutationFrom = async (start: RetrainStart) => {
      const engine = new RefinementEngine(snapshot, settings);
      await engine.trainShadow(blobs(150, 41).x, training, start);
      const outcome = await engine.judgeShadow(blobs(80, 42).x, 0.05);
      engine.dispose();
      return {
        permutation: outcome.promotion?.idMapping.permutation,
        changed: outcome.labelChangeFraction,
      };
    };
    const fresh = await permutationFrom('fresh');
    // Its own initialisation orders the blobs otherwise: the ids needed matching.
    assert.notDeepEqual(fresh.permutation, [0, 1, 2]);
    for (const start of ['serving', 'hybrid'] as const) {
      const { permutation, changed } = await permutationFrom(start);
      assert.deepEqual(permutation, [0, 1, 2], start);
      assert.ok(changed < 0.03, `${start}: ${(100 * changed).toFixed(1)}% of records relabelled`);
    }
  });

  void test('a hybrid shadow still splits what the serving model merged, and is promoted', async () => {
    await initBackend('cpu');
    // Serving: ids 0 and 1 split the blob at (-4, 0); id 2 holds the blobs at (4, 0) and (0, 5).
    const snapshot = tinySnapshot([-4.5, 0, -3.5, 0, 2, 2.5]);
    const engine = new RefinementEngine(snapshot, settings);
    await engine.trainShadow(blobs(100, 31).x, training, 'hybrid');
    const holdout = blobs(80, 32);
    const outcome = await engine.judgeShadow(holdout.x, 0.05);
    assert.equal(outcome.accepted, true, outcome.detail);
    const served = ModelVersion.ofParameters(engine.current().parameters);
    const accuracy = clusteringAccuracy(holdout.labels, served.labels(holdout.x));
    served.dispose();
    assert.ok(accuracy > 0.95, `ACC ${accuracy} after the promotion`);
    engine.dispose();
  });

  void test('a better shadow that would relabel more records than its gain pays for is discarded', async () => {
    await initBackend('cpu');
    const snapshot = tinySnapshot([-4, 0, -3, 0, 4, 0]);
    const engine = new RefinementEngine(snapshot, settings);
    await engine.trainShadow(blobs(100, 31).x, training);
    // The shadow of the promotion above, judged on blobs that touch (so it cuts some neighbour
    // edges too, and its score is above 0) at a charge steep for the records it moves.
    const touching = blobs(80, 32, undefined, 1.6).x;
    const outcome = await engine.judgeShadow(touching, 0.05, { charge: 8, maxReassignedShare: 1 });
    const serving = outcome.promotion?.servingScore ?? NaN;
    const shadow = outcome.promotion?.shadowScore ?? NaN;
    assert.ok(
      shadow > 0 && shadow < serving * 0.95,
      `the margin alone would promote: ${outcome.detail}`,
    );
    assert.ok(outcome.labelChangeFraction > 0.1, `relabelled ${outcome.labelChangeFraction}`);
    assert.equal(outcome.accepted, false, outcome.detail);
    assert.equal(outcome.reason, 'not-better');
    assert.match(outcome.detail ?? '', /of records it relabels/);
    assert.equal(engine.current().version, 1);
    engine.dispose();
  });
});
