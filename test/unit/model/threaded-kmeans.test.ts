import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/model/backend.js';
import { resolveDecOptions } from '../../../src/model/defaults.js';
import { SeededRandom } from '../../../src/model/rng.js';
import { tensorKmeans } from '../../../src/model/tensor-kmeans.js';
import { threadedKmeans } from '../../../src/model/threaded-kmeans.js';
import { trainDec } from '../../../src/model/train-dec.js';
import type { Matrix } from '../../../src/model/types.js';

/** `clusters` blobs in `cols` dimensions, each centred on its own axis. */
function blobs(rows: number, cols: number, clusters: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let d = 0; d < cols; d++) data[i * cols + d] = 0.6 * rng.normal();
    data[i * cols + (i % clusters)] = data[i * cols + (i % clusters)]! + 3;
  }
  return { data, rows, cols };
}

/** Always on a thread, however small the input. */
const onThread = threadedKmeans(0);

void describe('the baseline k-means on its own thread', () => {
  before(async () => {
    await initBackend();
  });

  void test('gives the result k-means gives here and leaves the stream where it would', async () => {
    const x = blobs(500, 12, 5, 1);
    const here = new SeededRandom(4);
    const there = new SeededRandom(4);
    const a = await tensorKmeans(x, 5, 4, here);
    const b = await onThread(x, 5, 4, there);
    assert.deepEqual(b.centroids, a.centroids);
    assert.deepEqual(b.labels, a.labels);
    assert.equal(b.inertia, a.inertia);
    assert.equal(there.next(), here.next());
  });

  void test('a view into a larger buffer gives the result of its own rows', async () => {
    const whole = blobs(600, 12, 5, 2);
    const rows = 300;
    const view: Matrix = { data: whole.data.subarray(100 * 12, 400 * 12), rows, cols: 12 };
    const copy: Matrix = { data: view.data.slice(), rows, cols: 12 };
    const a = await tensorKmeans(copy, 5, 2, new SeededRandom(1));
    const b = await onThread(view, 5, 2, new SeededRandom(1));
    assert.deepEqual(b.labels, a.labels);
  });

  void test('training with the baseline on a thread is training with it here', async () => {
    const x = blobs(120, 6, 3, 3);
    const options = resolveDecOptions(
      {
        clusters: 3,
        hiddenSizes: [8],
        embeddingSize: 2,
        seed: 5,
        batchSize: 16,
        pretrainEpochs: 4,
        kmeansRestarts: 3,
        updateInterval: 5,
        maxIterations: 20,
        guard: true,
      },
      6,
    );
    const here = await trainDec(x, options);
    const there = await trainDec(x, options, { baselineKmeans: onThread });
    assert.deepEqual(there.parameters, here.parameters);
    assert.equal(there.metrics.modelKind, here.metrics.modelKind);
    assert.deepEqual(there.metrics.selection, here.metrics.selection);
  });

  void test('a thread that cannot start leaves the baseline to the calling thread, same result', async () => {
    const x = blobs(400, 12, 4, 5);
    const here = new SeededRandom(2);
    const fallback = new SeededRandom(2);
    const a = await tensorKmeans(x, 4, 3, here);
    const b = await threadedKmeans(0, 'no-such-thread')(x, 4, 3, fallback);
    assert.deepEqual(b.labels, a.labels);
    assert.equal(fallback.next(), here.next());
  });

  void test('an abort stops the thread and rejects with the abort', async () => {
    const x = blobs(4000, 64, 10, 4);
    const controller = new AbortController();
    const run = onThread(x, 10, 200, new SeededRandom(1), controller.signal);
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    await assert.rejects(
      run,
      (error: unknown) => error instanceof Error && error.name === 'AbortError',
    );
    // 200 restarts take far longer than the wait: the thread was stopped, not waited for.
    assert.ok(performance.now() - started < 5_000);
  });
});
