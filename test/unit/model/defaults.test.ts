import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors.js';
import {
  PAPER_HIDDEN_SIZES,
  SMALL_HIDDEN_SIZES,
  rescheduleForRows,
  resolveDecOptions,
} from '../../../src/model/defaults.js';

void describe('resolveDecOptions', () => {
  void test('wide inputs get the paper architecture and narrow ones the small stack', () => {
    assert.deepEqual(resolveDecOptions({ clusters: 10 }, 784).hiddenSizes, PAPER_HIDDEN_SIZES);
    assert.deepEqual(resolveDecOptions({ clusters: 4 }, 12).hiddenSizes, SMALL_HIDDEN_SIZES);
  });

  void test('defaults follow the DEC recipe', () => {
    const o = resolveDecOptions({ clusters: 10 }, 784);
    assert.equal(o.embeddingSize, 10);
    assert.equal(o.batchSize, 256);
    assert.equal(o.alpha, 1);
    assert.equal(o.gamma, 0.1);
    assert.equal(o.kmeansRestarts, 20);
    assert.equal(o.tol, 0.001);
    assert.equal(o.inputDropout, 0);
    // The manifold start distils with DEC (its SGD); DEC's own k-means start self-trains with IDEC.
    assert.equal(o.initialisation, 'manifold');
    assert.equal(o.method, 'dec');
    assert.equal(o.clusterOptimizer, 'sgd');
    const kmeansStart = resolveDecOptions({ clusters: 10, initialisation: 'kmeans' }, 784);
    assert.equal(kmeansStart.method, 'idec');
    assert.equal(kmeansStart.clusterOptimizer, 'adam');
    assert.equal(o.guard, true);
  });

  void test('the schedule follows the data: many epochs for a small table, few for a large image set', () => {
    const table = resolveDecOptions({ clusters: 5 }, 12, 2000);
    const images = resolveDecOptions({ clusters: 10 }, 784, 10000);
    assert.ok(table.pretrainEpochs > 4 * images.pretrainEpochs);
    assert.deepEqual(images.hiddenSizes, [500, 500, 2000]);
    assert.deepEqual(resolveDecOptions({ clusters: 10 }, 64, 2000).hiddenSizes, [128, 128, 512]);
    assert.ok(table.maxIterations >= 100 && table.maxIterations <= 8000);
  });

  void test('the KL-phase optimiser follows the method unless given', () => {
    const dec = resolveDecOptions({ clusters: 3, method: 'dec' }, 5);
    assert.equal(dec.clusterOptimizer, 'sgd');
    assert.equal(dec.clusterLearningRate, 0.01);
    const idec = resolveDecOptions({ clusters: 3, method: 'idec' }, 5);
    assert.equal(idec.clusterOptimizer, 'adam');
    assert.equal(idec.clusterLearningRate, 0.001);
    const custom = resolveDecOptions({ clusters: 3, method: 'dec', clusterLearningRate: 0.05 }, 5);
    assert.equal(custom.clusterLearningRate, 0.05);
  });

  void test('given values win over defaults and the result is frozen', () => {
    const o = resolveDecOptions({ clusters: 3, hiddenSizes: [16], seed: 42 }, 5);
    assert.deepEqual(o.hiddenSizes, [16]);
    assert.equal(o.seed, 42);
    assert.ok(Object.isFrozen(o));
  });

  void test('bad options throw a UsageError naming each of them', () => {
    assert.throws(
      () => resolveDecOptions({ clusters: 1, batchSize: 0, inputDropout: 1.5 }, 5),
      (e: unknown) =>
        e instanceof UsageError &&
        /clusters/.test(e.message) &&
        /batchSize/.test(e.message) &&
        /inputDropout/.test(e.message),
    );
    assert.throws(() => resolveDecOptions({ clusters: 3, hiddenSizes: [4, -1] }, 5), /hiddenSizes/);
  });
});

void describe('rescheduleForRows', () => {
  void test('a default schedule becomes the default for the new size; everything else stays', () => {
    const bootstrap = resolveDecOptions({ clusters: 10, seed: 4 }, 784, 3000);
    const retrain = rescheduleForRows(bootstrap, 784, 3000, 10_000);
    const fresh = resolveDecOptions({ clusters: 10, seed: 4 }, 784, 10_000);
    assert.ok(bootstrap.pretrainEpochs > fresh.pretrainEpochs, 'fewer epochs for more records');
    assert.deepEqual(retrain, fresh);
    assert.ok(Object.isFrozen(retrain));
  });

  void test('a schedule chosen by hand is kept', () => {
    const chosen = resolveDecOptions(
      { clusters: 10, pretrainEpochs: 60, maxIterations: 2000 },
      784,
      3000,
    );
    const retrain = rescheduleForRows(chosen, 784, 3000, 10_000);
    assert.equal(retrain.pretrainEpochs, 60);
    assert.equal(retrain.maxIterations, 2000);
  });

  void test('each half of the schedule is judged on its own', () => {
    const epochsOnly = resolveDecOptions({ clusters: 4, pretrainEpochs: 33 }, 12, 2000);
    const retrain = rescheduleForRows(epochsOnly, 12, 2000, 500);
    assert.equal(retrain.pretrainEpochs, 33);
    assert.equal(
      retrain.maxIterations,
      resolveDecOptions({ clusters: 4 }, 12, 500).maxIterations,
      'the default steps follow the new size',
    );
  });
});
