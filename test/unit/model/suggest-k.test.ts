import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import {
  calinskiHarabasz,
  daviesBouldin,
  pairwiseDistances,
  silhouette,
} from '../../../src/model/cluster-validity.js';
import { clusterCountSpaces, layoutOfEmbedding } from '../../../src/model/cluster-count-spaces.js';
import { SeededRandom } from '../../../src/model/rng.js';
import { suggestClusters } from '../../../src/model/suggest-clusters.js';
import {
  ClusterCountCriterion,
  recommendClusterCount,
  scoreClusterCounts,
} from '../../../src/model/suggest-k.js';
import type { Matrix } from '../../../src/model/types.js';
import { gaussianMixture } from './mixture.js';

/** Four points on a line, two tight pairs: {0, 1} and {10, 11}. */
const line: Matrix = { data: Float32Array.from([0, 1, 10, 11]), rows: 4, cols: 1 };
const pairs = Int32Array.from([0, 0, 1, 1]);

before(async () => {
  await initBackend('cpu');
});

void describe('cluster validity indices', () => {
  void test('silhouette() averages (b - a) / max(a, b) over the points', () => {
    // Point 0: a = 1, b = (10 + 11) / 2; point 1: a = 1, b = (9 + 10) / 2; 2 and 3 mirror them.
    const expected = (9.5 / 10.5 + 8.5 / 9.5) / 2;
    assert.ok(Math.abs(silhouette(pairwiseDistances(line), pairs, 2) - expected) < 1e-6);
  });

  void test('silhouette() is lower for a partition that splits the pairs', () => {
    const split = Int32Array.from([0, 1, 0, 1]);
    const d = pairwiseDistances(line);
    assert.ok(silhouette(d, split, 2) < silhouette(d, pairs, 2));
  });

  void test('calinskiHarabasz() is between over within dispersion per degree of freedom', () => {
    // Centroids 0.5 and 10.5, grand mean 5.5: B = 4 * 25 = 100, W = 4 * 0.25 = 1; (100/1)/(1/2).
    assert.ok(Math.abs(calinskiHarabasz(line, pairs, 2) - 200) < 1e-6);
  });

  void test('daviesBouldin() is (s_i + s_j) / |c_i - c_j| for two clusters', () => {
    // s = 0.5 for both clusters, centroids 10 apart.
    assert.ok(Math.abs(daviesBouldin(line, pairs, 2) - 0.1) < 1e-6);
  });
});

void describe('scoreClusterCounts', () => {
  for (const k of [2, 4, 7]) {
    void test(`the silhouette recommends k = ${k} on ${k} well separated Gaussian blobs`, async () => {
      const { x } = gaussianMixture(40 * k, k, 5, 100 + k);
      const scores = await scoreClusterCounts(x, { min: 2, max: 9 }, new SeededRandom(1), {
        restarts: 3,
      });
      assert.deepEqual(
        scores.map((s) => s.k),
        [2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.equal(recommendClusterCount(scores, ClusterCountCriterion.Silhouette), k);
    });
  }

  void test('is deterministic for the same data and seed and leaks no tensors', async () => {
    const { x } = gaussianMixture(90, 3, 4, 5);
    const tensors = tf.memory().numTensors;
    const a = await scoreClusterCounts(x, { min: 2, max: 5 }, new SeededRandom(3), { restarts: 2 });
    const b = await scoreClusterCounts(x, { min: 2, max: 5 }, new SeededRandom(3), { restarts: 2 });
    assert.deepEqual(a, b);
    assert.equal(tf.memory().numTensors, tensors);
  });

  void test('rejects a range that is empty, starts below 2 or reaches the number of rows', async () => {
    const { x } = gaussianMixture(20, 2, 2, 1);
    const rng = new SeededRandom(1);
    await assert.rejects(scoreClusterCounts(x, { min: 1, max: 4 }, rng), /smallest .* >= 2/);
    await assert.rejects(
      scoreClusterCounts(x, { min: 5, max: 4 }, rng),
      /largest .* >= the smallest/,
    );
    await assert.rejects(scoreClusterCounts(x, { min: 2, max: 20 }, rng), /20 clusters on 20 rows/);
  });
});

void describe('recommendClusterCount', () => {
  const table = [
    [2, 0.5, 10, 0.9],
    [3, 0.79, 30, 0.5],
    [4, 0.8, 20, 0.4],
    [5, 0.6, 40, 0.6],
  ].map(([k, sil, ch, db]) => ({
    k: k!,
    silhouette: sil!,
    calinskiHarabasz: ch!,
    daviesBouldin: db!,
    normalisedCut: 0,
    smallestShare: 0.1,
  }));

  void test('picks the best k of each index', () => {
    assert.equal(recommendClusterCount(table, ClusterCountCriterion.Silhouette), 4);
    assert.equal(recommendClusterCount(table, ClusterCountCriterion.CalinskiHarabasz), 5);
    assert.equal(recommendClusterCount(table, ClusterCountCriterion.DaviesBouldin), 4);
  });

  void test('with a tolerance, picks the smallest k within it of the best', () => {
    assert.equal(recommendClusterCount(table, ClusterCountCriterion.Silhouette, 0.02), 3);
    assert.equal(recommendClusterCount(table, ClusterCountCriterion.Silhouette, 0.005), 4);
    assert.equal(recommendClusterCount(table, ClusterCountCriterion.Silhouette, 0.3), 2);
  });
});

void describe('suggestClusters', () => {
  void test('finds k = 3 and k = 5 on mixtures through a small pretrained embedding', async () => {
    for (const k of [3, 5]) {
      const { x } = gaussianMixture(60 * k, k, 6, 200 + k);
      const suggestion = await suggestClusters(x, {
        range: { min: 2, max: 8 },
        hiddenSizes: [16],
        embeddingSize: 4,
        pretrainEpochs: 15,
        batchSize: 32,
        seed: 3,
      });
      assert.equal(suggestion.clusters, k, `k = ${k}`);
      assert.equal(suggestion.scores.length, 7);
      assert.equal(suggestion.rows, 60 * k);
    }
  });
});

void describe('layoutOfEmbedding', () => {
  void test('lays an embedding out exactly as clusterCountSpaces does for the same seed and rows', async () => {
    const { x } = gaussianMixture(120, 3, 6, 41);
    const spaces = await clusterCountSpaces(x, {
      hiddenSizes: [16],
      embeddingSize: 4,
      pretrainEpochs: 5,
      batchSize: 32,
      seed: 5,
      layoutDims: 3,
    });
    // Every row is laid out (120 is under the default sample of 3,000 rows).
    assert.equal(spaces.layout.rows, 120);
    const again = await layoutOfEmbedding(spaces.embedding, 5, 3);
    assert.deepEqual(again.layout, spaces.layout);
    const otherSeed = await layoutOfEmbedding(spaces.embedding, 6, 3);
    assert.notDeepEqual(otherSeed.layout.data, spaces.layout.data);
  });
});
