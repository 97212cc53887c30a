import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/model/backend.js';
import { resolveDecOptions } from '../../../src/model/defaults.js';
import { evaluateClustering } from '../../../src/model/evaluation.js';
import { guardChoice, ModelKind } from '../../../src/model/model-guard.js';
import { SharedGraphs } from '../../../src/model/shared-graphs.js';
import { SeededRandom } from '../../../src/model/rng.js';
import { trainDec } from '../../../src/model/train-dec.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import type { Matrix } from '../../../src/model/types.js';

/** Standardises columns in place, as trainSnapshot does before training. */
function standardised(x: Matrix): Matrix {
  for (let c = 0; c < x.cols; c++) {
    let mean = 0;
    for (let i = 0; i < x.rows; i++) mean += x.data[i * x.cols + c]! / x.rows;
    let variance = 0;
    for (let i = 0; i < x.rows; i++) variance += (x.data[i * x.cols + c]! - mean) ** 2 / x.rows;
    const std = Math.sqrt(variance) || 1;
    for (let i = 0; i < x.rows; i++)
      x.data[i * x.cols + c] = (x.data[i * x.cols + c]! - mean) / std;
  }
  return x;
}

/** Three round Gaussian blobs in 5 dimensions: nothing for an autoencoder to add. */
function gaussianMixture(rows: number, seed: number): { x: Matrix; labels: Int32Array } {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(rows * 5);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let d = 0; d < 5; d++) data[i * 5 + d] = (d === c ? 4 : 0) + rng.normal();
  }
  return { x: standardised({ data, rows, cols: 5 }), labels };
}

/**
 * Two interleaved half circles ("moons"), lifted into 4 dimensions by a fixed rotation: k-means
 * cuts each moon in two, a partition that follows the curves does not.
 */
function twoMoons(rows: number, seed: number): { x: Matrix; labels: Int32Array } {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(rows * 4);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const moon = i % 2;
    const t = Math.PI * rng.next();
    const u = moon === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const v = moon === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    const a = u + 0.1 * rng.normal();
    const b = v + 0.1 * rng.normal();
    labels[i] = moon;
    data.set([a + b, a - b, 0.5 * a, -0.5 * b], i * 4);
  }
  return { x: standardised({ data, rows, cols: 4 }), labels };
}

const options = (clusters: number, cols: number) =>
  resolveDecOptions(
    {
      clusters,
      hiddenSizes: [32, 32],
      embeddingSize: 4,
      seed: 1,
      batchSize: 32,
      pretrainEpochs: 40,
      kmeansRestarts: 5,
      maxIterations: 300,
    },
    cols,
  );

void describe('the guard', () => {
  before(async () => {
    await initBackend();
  });

  void test('guardChoice() keeps k-means when both partitions are the same (a tie goes to the simpler model)', async () => {
    const { x, labels } = gaussianMixture(300, 1);
    const decision = await guardChoice(
      { input: x, pretrained: x, final: x },
      { kmeans: labels, dec: labels },
      { clusters: 3, neighbours: 10, sampleRows: 3000, margin: 0.1 },
      new SeededRandom(1),
    );
    assert.equal(decision.chosen, ModelKind.Kmeans);
    const [kmeans, dec] = decision.candidates;
    assert.equal(kmeans!.score, dec!.score);
  });

  void test('guardChoice() prefers the partition that cuts fewer neighbour edges, by more than the margin', async () => {
    const { x, labels } = twoMoons(400, 2);
    // A partition that cuts across both moons: by the sign of the first coordinate.
    const across = Int32Array.from({ length: x.rows }, (_, i) => (x.data[i * 4]! > 0 ? 1 : 0));
    const decision = await guardChoice(
      { input: x, pretrained: x, final: x },
      { kmeans: across, dec: labels },
      { clusters: 2, neighbours: 10, sampleRows: 3000, margin: 0.1 },
      new SeededRandom(1),
    );
    assert.equal(decision.chosen, ModelKind.Dec);
    const [kmeans, dec] = decision.candidates;
    assert.ok(dec!.score < kmeans!.score * 0.9, `${dec!.score} vs ${kmeans!.score}`);
  });

  void test('trainDec() serves k-means on a plain Gaussian mixture, where the autoencoder adds nothing', async () => {
    const { x, labels } = gaussianMixture(450, 3);
    const trained = await trainDec(x, options(3, 5));
    assert.equal(trained.metrics.modelKind, ModelKind.Kmeans);
    // The k-means model is the identity map plus k-means' centres: it labels by nearest centre.
    assert.equal(trained.parameters.embeddingSize, 5);
    const assigner = ModelVersion.ofParameters(trained.parameters);
    try {
      assert.ok(evaluateClustering(labels, assigner.assign(x).cluster).acc > 0.95);
    } finally {
      assigner.dispose();
    }
  });

  void test('trainDec() keeps the deep model on two moons, which k-means cuts across', async () => {
    const { x, labels } = twoMoons(600, 4);
    const trained = await trainDec(x, options(2, 4));
    assert.equal(trained.metrics.modelKind, ModelKind.Dec);
    const scores = trained.metrics.selection!.candidates;
    assert.ok(scores[1]!.score < scores[0]!.score);
    const assigner = ModelVersion.ofParameters(trained.parameters);
    try {
      assert.ok(evaluateClustering(labels, assigner.assign(x).cluster).acc > 0.9);
    } finally {
      assigner.dispose();
    }
  });

  void test('trainDec() with several manifold starts distils a partition the criterion scores no worse than the first start', async () => {
    const { x } = twoMoons(400, 6);
    const first: Int32Array[] = [];
    const best: Int32Array[] = [];
    const base = { ...options(2, 4), maxIterations: 0, guard: false };
    await trainDec(
      x,
      { ...base, manifoldStarts: 1 },
      {
        onStage: (s) => s.name === 'initial' && first.push(s.labels!),
      },
    );
    await trainDec(
      x,
      { ...base, manifoldStarts: 4 },
      {
        onStage: (s) => s.name === 'initial' && best.push(s.labels!),
      },
    );
    const graphs = await SharedGraphs.build([x], { neighbours: 10, sampleRows: 3000 });
    const cut = (l: Int32Array) => graphs.score(l, 2);
    assert.ok(cut(best[0]!) <= cut(first[0]!) + 1e-9, `${cut(best[0]!)} vs ${cut(first[0]!)}`);
  });
});
