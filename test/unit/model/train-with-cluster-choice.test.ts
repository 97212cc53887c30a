import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClusterCountSuggestion } from '../../../src/model/suggest-clusters.js';
import { trainWithClusterChoice } from '../../../src/model/train-with-cluster-choice.js';
import { gaussianMixture, toRecords } from './mixture.js';

/** Small enough to train in seconds; the bootstrap's options otherwise. */
const small = {
  hiddenSizes: [16],
  embeddingSize: 4,
  pretrainEpochs: 15,
  batchSize: 32,
  maxIterations: 30,
  kmeansRestarts: 3,
  seed: 5,
  backend: 'cpu',
} as const;

void describe('trainWithClusterChoice (the bootstrap trainer)', () => {
  void test('with clusters auto it trains on the k it found, pretraining once, and reports the table', async () => {
    const { x } = gaussianMixture(300, 5, 6, 77);
    const { records, fields } = toRecords(x);
    let suggestion: ClusterCountSuggestion | undefined;
    let pretrainings = 0;
    const snapshot = await trainWithClusterChoice(
      records,
      fields,
      { ...small, clusters: 'auto', clusterRange: { min: 2, max: 8 } },
      {
        onSuggestion: (s) => (suggestion = s),
        onProgress: (p) => {
          if (p.phase === 'pretrain' && p.step === 1) pretrainings++;
        },
      },
    );
    assert.equal(suggestion?.clusters, 5);
    assert.deepEqual(
      suggestion.scores.map((s) => s.k),
      [2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(snapshot.parameters.clusters, 5);
    assert.equal(snapshot.options.clusters, 5);
    // Training reused the suggestion's autoencoder: the model of a training told k = 5 outright,
    // which pretrains for itself.
    assert.equal(pretrainings, 1);
    const told = await trainWithClusterChoice(records, fields, { ...small, clusters: 5 });
    assert.deepEqual(snapshot.parameters, told.parameters);
  });

  void test('with a number it trains on that k and suggests nothing', async () => {
    const { x } = gaussianMixture(120, 3, 4, 78);
    const { records, fields } = toRecords(x);
    let suggested = false;
    const snapshot = await trainWithClusterChoice(
      records,
      fields,
      { ...small, clusters: 4 },
      { onSuggestion: () => (suggested = true) },
    );
    assert.equal(snapshot.parameters.clusters, 4);
    assert.equal(suggested, false);
  });
});
