import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { resolveDecOptions } from '../../../src/model/defaults.js';
import { trainDec } from '../../../src/model/train-dec.js';
import { clusteringAccuracy } from '../../../src/model/evaluation.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import { SeededRandom } from '../../../src/model/rng.js';
import type { Matrix, TrainingProgress } from '../../../src/model/types.js';

/** Three well-separated blobs in 4 dimensions. */
function blobs(rows: number, seed: number): { x: Matrix; labels: Int32Array } {
  const rng = new SeededRandom(seed);
  const centres = [
    [3, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 0, 3, 0],
  ];
  const data = new Float32Array(rows * 4);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let d = 0; d < 4; d++) data[i * 4 + d] = centres[c]![d]! + 0.3 * rng.normal();
  }
  return { x: { data, rows, cols: 4 }, labels };
}

const tiny = (method: 'dec' | 'idec', seed = 7) =>
  resolveDecOptions(
    {
      clusters: 3,
      hiddenSizes: [8],
      embeddingSize: 2,
      seed,
      method,
      batchSize: 16,
      pretrainEpochs: 4,
      kmeansRestarts: 2,
      updateInterval: 5,
      maxIterations: 20,
      // These tests are about the deep model's training; the guard has tests of its own.
      guard: false,
    },
    4,
  );

void describe('trainDec', () => {
  before(async () => {
    await initBackend();
  });

  for (const method of ['dec', 'idec'] as const) {
    void test(`two ${method} trainings with the same seed give identical parameters`, async () => {
      const { x } = blobs(60, 1);
      const a = await trainDec(x, tiny(method));
      const b = await trainDec(x, tiny(method));
      assert.deepEqual(a.parameters, b.parameters);
      const c = await trainDec(x, tiny(method, 8));
      assert.notDeepEqual(a.parameters.encoder[0]!.weights, c.parameters.encoder[0]!.weights);
    });
  }

  void test('training reports every phase, fills the metrics and leaks no tensors', async () => {
    const { x } = blobs(60, 2);
    const before = tf.memory().numTensors;
    const phases = new Set<string>();
    const { parameters, metrics } = await trainDec(x, tiny('idec'), {
      onProgress: (p) => phases.add(p.phase),
    });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual([...phases].sort(), ['cluster', 'kmeans', 'pretrain']);
    assert.equal(metrics.samples, 60);
    assert.equal(metrics.inputDims, 4);
    assert.equal(
      metrics.clusterSizes.reduce((s, v) => s + v, 0),
      60,
    );
    assert.ok(metrics.backend.length > 0);
    assert.ok(Number.isFinite(metrics.reconstructionError));
    assert.equal(parameters.centroids.length, 3 * 2);
    assert.deepEqual(
      parameters.encoder.map((l) => [l.inputSize, l.outputSize]),
      [
        [4, 8],
        [8, 2],
      ],
    );
  });

  void test('aborting stops pretraining and frees its tensors', async () => {
    const { x } = blobs(60, 3);
    const controller = new AbortController();
    const seen: TrainingProgress[] = [];
    const before = tf.memory().numTensors;
    const options = { ...tiny('dec'), pretrainEpochs: 50 };
    await assert.rejects(
      trainDec(x, options, {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.phase === 'pretrain' && p.step === 2) controller.abort();
        },
      }),
      (error: unknown) => error instanceof Error && error.name === 'AbortError',
    );
    assert.equal(seen.at(-1)?.step, 2);
    assert.ok(seen.every((p) => p.phase === 'pretrain'));
    assert.equal(tf.memory().numTensors, before);
  });

  void test('a second autoencoder joins the manifold start and leaves the first one as it was', async () => {
    const { x } = blobs(60, 5);
    const embeddingOf = async (autoencoders: number) => {
      let pretrained: Matrix | undefined;
      const trained = await trainDec(
        x,
        { ...tiny('dec'), autoencoders },
        {
          onStage: (stage) => {
            if (stage.name === 'pretrained') pretrained = stage.embedding;
          },
        },
      );
      return { trained, pretrained: pretrained! };
    };
    const before = tf.memory().numTensors;
    const one = await embeddingOf(1);
    const two = await embeddingOf(2);
    const again = await embeddingOf(2);
    assert.equal(tf.memory().numTensors, before);
    // The serving autoencoder pretrains from the same seed streams either way.
    assert.deepEqual(two.pretrained, one.pretrained);
    assert.deepEqual(again.trained.parameters, two.trained.parameters);
    assert.equal(two.trained.parameters.encoder.at(-1)!.outputSize, 2);
    assert.ok(two.trained.metrics.wallMs.pretrain > 0);
  });

  void test('a given starting partition keeps its cluster ids, and a cluster it leaves empty gets rows', async () => {
    const { x, labels } = blobs(90, 6);
    const labelsUnder = (trained: Awaited<ReturnType<typeof trainDec>>) => {
      const model = ModelVersion.ofParameters(trained.parameters);
      try {
        return model.labels(x);
      } finally {
        model.dispose();
      }
    };
    // The blobs under other ids than their own initialisation would give them.
    const renamed = labels.map((blob) => [2, 0, 1][blob]!);
    const kept = labelsUnder(await trainDec(x, tiny('dec'), {}, { labels: renamed }));
    const sameId = kept.filter((label, i) => label === renamed[i]).length / x.rows;
    assert.ok(sameId >= 0.95, `${(100 * sameId).toFixed(1)}% of rows kept the given id`);
    // Two blobs under one id and none under id 2: id 2 takes half of the merged pair.
    const merged = labels.map((blob) => (blob === 2 ? 1 : 0));
    const selfTraining = { ...tiny('dec'), distilEpochs: 2, maxIterations: 200 };
    const split = labelsUnder(await trainDec(x, selfTraining, {}, { labels: merged }));
    const accuracy = clusteringAccuracy(labels, split);
    assert.ok(accuracy >= 0.95, `ACC ${accuracy}: the merged pair was not split`);
    const keptTwo = split.filter((label, i) => (labels[i] === 2) === (label === 1)).length;
    assert.ok(keptTwo / x.rows >= 0.95, `blob 2 lost id 1 on ${x.rows - keptTwo} rows`);
  });

  void test('a starting partition of another length is refused', async () => {
    const { x } = blobs(30, 4);
    await assert.rejects(
      trainDec(x, tiny('dec'), {}, { labels: new Int32Array(29) }),
      /29 rows for 30 training rows/,
    );
  });

  void test('too few rows for the number of clusters is refused', async () => {
    const { x } = blobs(2, 4);
    await assert.rejects(trainDec(x, tiny('dec')), /at least 3 rows/);
  });
});
