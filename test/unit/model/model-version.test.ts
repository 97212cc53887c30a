import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { PoisonReason, PoisonRecordError } from '../../../src/errors.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import { forward, layersToTensors, disposeLayers } from '../../../src/model/dense-network.js';
import { softAssignment } from '../../../src/model/soft-assignment.js';
import type { DecParameters, Matrix, ModelSnapshot } from '../../../src/model/types.js';
import { tinySnapshot } from '../worker/tiny-snapshot.js';

/** Identity encoder 2 → 2 (linear), identity decoder, centroids at (0,0) and (4,0). */
const parameters: DecParameters = {
  encoder: [
    {
      inputSize: 2,
      outputSize: 2,
      weights: Float32Array.of(1, 0, 0, 1),
      bias: new Float32Array(2),
      activation: 'linear',
    },
  ],
  decoder: [
    {
      inputSize: 2,
      outputSize: 2,
      weights: Float32Array.of(1, 0, 0, 1),
      bias: Float32Array.of(0, 1),
      activation: 'linear',
    },
  ],
  centroids: Float32Array.of(0, 0, 4, 0),
  clusters: 2,
  embeddingSize: 2,
  alpha: 1,
};

const points: Matrix = { data: Float32Array.of(0, 1, 4, 0, 3, 0), rows: 3, cols: 2 };

void describe('ModelVersion', () => {
  let model: ModelVersion;
  before(async () => {
    await initBackend();
    model = ModelVersion.ofParameters(parameters);
  });
  after(() => model.dispose());

  void test('assign() puts each point in the cluster of its nearest centroid with q, confidence and distance', () => {
    const out = model.assign(points);
    assert.deepEqual(Array.from(out.cluster), [0, 1, 1]);
    // Row 0: d² = [1, 17] → kernel [1/2, 1/18] → q = [0.9, 0.1].
    assert.ok(Math.abs(out.q[0]! - 0.9) < 1e-6);
    assert.ok(Math.abs(out.confidence[0]! - 0.9) < 1e-6);
    assert.ok(Math.abs(out.distance[0]! - 1) < 1e-6);
    assert.ok(Math.abs(out.distance[2]! - 1) < 1e-6);
    assert.equal(out.q.length, 6);
    assert.equal(out.rows, 3);
  });

  void test('assign() on a batch larger than one chunk agrees with row-by-row assignment', () => {
    const rows = 5000;
    const data = new Float32Array(rows * 2);
    for (let i = 0; i < rows; i++) data[i * 2] = (i % 50) / 10;
    const all = model.assign({ data, rows, cols: 2 });
    for (const i of [0, 19, 21, 4999]) {
      const one = model.assign({ data: data.slice(i * 2, i * 2 + 2), rows: 1, cols: 2 });
      assert.equal(all.cluster[i], one.cluster[0]);
    }
  });

  for (const alpha of [1, 2.5]) {
    void test(`assign() matches the tensor Student-t soft assignment within 1e-5 (alpha ${alpha})`, () => {
      // 3 → 4 (ReLU) → 2 with fixed pseudo-random weights, three centroids.
      const wave = (n: number, phase: number): Float32Array =>
        Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + phase));
      const model: DecParameters = {
        encoder: [
          {
            inputSize: 3,
            outputSize: 4,
            weights: wave(12, 0),
            bias: wave(4, 1),
            activation: 'relu',
          },
          {
            inputSize: 4,
            outputSize: 2,
            weights: wave(8, 2),
            bias: wave(2, 3),
            activation: 'linear',
          },
        ],
        decoder: [],
        centroids: wave(6, 4),
        clusters: 3,
        embeddingSize: 2,
        alpha,
      };
      const x: Matrix = { data: wave(3 * 40, 5).map((v) => 2 * v), rows: 40, cols: 3 };
      const mine = ModelVersion.ofParameters(model);
      const out = mine.assign(x);
      mine.dispose();
      const layers = layersToTensors(model.encoder);
      const expected = tf.tidy(() =>
        softAssignment(
          forward(tf.tensor2d(x.data, [x.rows, x.cols]), layers),
          tf.tensor2d(model.centroids, [3, 2]),
          alpha,
        ).dataSync(),
      );
      disposeLayers(layers);
      for (let i = 0; i < expected.length; i++) {
        assert.ok(Math.abs(out.q[i]! - expected[i]!) < 1e-5, `q[${i}]`);
      }
      for (let r = 0; r < x.rows; r++) {
        const row = Array.from(expected.subarray(r * 3, r * 3 + 3));
        assert.equal(out.cluster[r], row.indexOf(Math.max(...row)));
        assert.ok(Math.abs(out.confidence[r]! - Math.max(...row)) < 1e-5);
      }
    });
  }

  void test('assign(), embed() and reconstructionError() leak no tensors', () => {
    const before = tf.memory().numTensors;
    model.assign(points);
    model.embed(points);
    model.reconstructionError(points);
    assert.equal(tf.memory().numTensors, before);
  });

  void test('reconstructionError() is the per-row mean squared error', () => {
    // The decoder adds 1 to the second coordinate: error (0² + 1²)/2 on every row.
    assert.deepEqual(Array.from(model.reconstructionError(points)), [0.5, 0.5, 0.5]);
    assert.deepEqual(Array.from(model.embed(points).data), Array.from(points.data));
  });

  void test('a batch with the wrong width is refused', () => {
    assert.throws(() => model.assign({ data: new Float32Array(3), rows: 1, cols: 3 }), /expects 2/);
  });

  void test('dispose() frees the model tensors', () => {
    const before = tf.memory().numTensors;
    const a = ModelVersion.ofParameters(parameters);
    a.dispose();
    a.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  void test('features() reads, standardises and checks each record, leaving out the unusable', () => {
    // Field a is scaled by mean 1, std 2; field b by a std of 1e-6, so b = 3e38 overflows float32.
    const snapshot: Pick<
      ModelSnapshot,
      'version' | 'featureSpec' | 'standardisation' | 'parameters'
    > = {
      version: 3,
      featureSpec: { fields: ['a', 'b'], widths: [1, 1] },
      standardisation: { mean: Float32Array.of(1, 0), std: Float32Array.of(2, 1e-6) },
      parameters,
    };
    const version = new ModelVersion(snapshot);
    try {
      const records = [{ a: 9, b: 0 }, { a: 1, b: 3e38 }, { b: 1 }, { a: -1, b: 0.000004 }];
      const { x, row, rejected } = version.features(records);
      assert.deepEqual(Array.from(row), [0, -1, -1, 1]);
      assert.deepEqual(Array.from(x.data), [4, 0, -1, 4]);
      assert.equal(x.rows, 2);
      assert.deepEqual(
        rejected.map((r) => [r.index, r.error.reason]),
        [
          [1, PoisonReason.NonFinite],
          [2, PoisonReason.MissingField],
        ],
      );
      assert.equal(rejected[0]?.error.message, 'a feature overflows after standardisation');
      const labelled = version.assignRecords(records);
      assert.deepEqual(Array.from(labelled.batch.cluster), [1, 0]);
      assert.equal(version.version, 3);
    } finally {
      version.dispose();
    }
  });

  void test('standardiseRow() throws a non-finite poison error only for a row that overflows', () => {
    const data = Float32Array.of(1, 1, 3e38, -3e38);
    model.standardiseRow(data, 0);
    assert.deepEqual(Array.from(data.subarray(0, 2)), [1, 1]);
    assert.throws(
      () => model.standardiseRow(Float32Array.of(Infinity, 0), 0),
      (e: unknown) => e instanceof PoisonRecordError && e.reason === PoisonReason.NonFinite,
    );
    model.standardiseRow(data, 1);
    assert.deepEqual(Array.from(data.subarray(2)), [Math.fround(3e38), Math.fround(-3e38)]);
  });
});

void test('assignRecords rejects records whose features overflow once standardised or in the soft assignment', async () => {
  await initBackend('cpu');
  // Identity encoder, centroids (0, 0) and (10, 10); x is scaled by 1 / 0.5.
  const snapshot = {
    ...tinySnapshot(1),
    standardisation: { mean: new Float32Array(2), std: Float32Array.from([0.5, 1]) },
  };
  const model = new ModelVersion(snapshot);
  try {
    const result = model.assignRecords([
      { x: 0.5, y: 1 },
      // 3e38 is within float32 but 6e38 is not: it was assigned as Infinity.
      { x: 3e38, y: 0 },
      // Finite once scaled, but the squared distances overflow: it was assigned with q = NaN.
      { x: 1e38, y: 1e38 },
      { x: 5, y: 11 },
    ]);
    assert.deepEqual(Array.from(result.row), [0, -1, -1, 1]);
    assert.deepEqual(
      result.rejected.map((p) => [p.index, p.error.reason]),
      [
        [1, 'non-finite'],
        [2, 'non-finite'],
      ],
    );
    assert.equal(result.batch.rows, 2);
    assert.deepEqual(Array.from(result.batch.cluster), [0, 1]);
    assert.ok(Array.from(result.batch.confidence).every((c) => c > 0.5 && c <= 1));
  } finally {
    model.dispose();
  }
});
