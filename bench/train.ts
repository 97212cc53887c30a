/**
 * Training throughput of the hand-written autoencoder against the backend's own matMul rate on the
 * same shapes, measured in the same run. Writes bench/results/train.json and prints a table.
 *
 *   npm run bench:train            (BENCH_ROWS, BENCH_EPOCHS, BENCH_BACKEND override the defaults)
 */
import * as tf from '@tensorflow/tfjs-core';
import { PAPER_HIDDEN_SIZES } from '../src/model/defaults.js';
import { autoencoderShape, initDenseLayers } from '../src/model/dense-network.js';
import { pretrainAutoencoder } from '../src/model/pretrain.js';
import { SeededRandom } from '../src/model/rng.js';
import { ModelVersion } from '../src/model/model-version.js';
import { envNumber } from './common/args.js';
import { benchBackend } from './common/backend.js';
import { printDocTable } from './common/print.js';
import { resultFile, runFacts, writeResult } from './common/results.js';
import { stopwatch } from './common/timing.js';
import { mnist10k } from './data/synthetic-mixture.js';

const rowsWanted = envNumber('BENCH_ROWS', 5120);
const epochs = envNumber('BENCH_EPOCHS', 4);
const batchSize = 256;

const backend = await benchBackend('wasm', (m) => console.log(m));
const mnist = mnist10k();
const rows = Math.min(rowsWanted, mnist.x.rows);
// Every k-th digit so that the sample spans all classes.
const step = Math.floor(mnist.x.rows / rows);
const data = new Float32Array(rows * 784);
for (let i = 0; i < rows; i++)
  data.set(mnist.x.data.subarray(i * step * 784, (i * step + 1) * 784), i * 784);

const shape = autoencoderShape(784, PAPER_HIDDEN_SIZES, 10);
const widths = [...shape.encoder, ...shape.decoder.slice(1)];
const layerShapes: [number, number][] = [];
for (let l = 0; l + 1 < widths.length; l++) layerShapes.push([widths[l]!, widths[l + 1]!]);
const weightCount = layerShapes.reduce((s, [a, b]) => s + a * b, 0);
// forward 2·in·out, dW 2·in·out, dX 2·in·out (not needed for the first layer)
const flopsPerSample = 6 * weightCount - 2 * layerShapes[0]![0] * layerShapes[0]![1];

console.log(
  `backend ${backend}; ${rows} rows x 784, architecture ${widths.join('-')}, batch ${batchSize}`,
);
console.log(`${(flopsPerSample / 1e6).toFixed(2)} MFLOP per sample per training step`);

// 1) The backend's plain matMul on exactly the products one training step performs.
function timeMatMuls(repeats: number): number {
  const operands = layerShapes.flatMap(([inSize, outSize]) => [
    [tf.randomNormal([batchSize, inSize]), tf.randomNormal([inSize, outSize])], // forward
    [tf.randomNormal([inSize, batchSize]), tf.randomNormal([batchSize, outSize])], // dW = Aᵀ dZ
    [tf.randomNormal([batchSize, outSize]), tf.randomNormal([outSize, inSize])], // dX = dZ Wᵀ
  ]) as [tf.Tensor2D, tf.Tensor2D][];
  const run = (): void => {
    operands.forEach(([a, b], i) => {
      if (i === 2) return; // the first layer needs no input gradient
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    });
  };
  run();
  const clock = stopwatch();
  for (let r = 0; r < repeats; r++) run();
  const seconds = clock.seconds();
  for (const [a, b] of operands) tf.dispose([a, b]);
  return (flopsPerSample * batchSize * repeats) / seconds;
}

console.log('timing plain matMul on the same shapes...');
const matMulBefore = timeMatMuls(8);

// 2) Our training loop.
const rng = new SeededRandom(1);
const x = tf.tensor2d(data, [rows, 784]);
const epochTimes: number[] = [];
let lastElapsed = 0;
const pre = await pretrainAutoencoder(
  x,
  initDenseLayers(shape.encoder, rng),
  initDenseLayers(shape.decoder, rng),
  {
    batchSize,
    pretrainEpochs: epochs,
    pretrainOptimizer: 'adam',
    pretrainLearningRate: 0.001,
    inputDropout: 0,
    earlyStopPatience: epochs,
  },
  rng,
  {
    onProgress: (p) => {
      epochTimes.push(p.elapsedMs - lastElapsed);
      lastElapsed = p.elapsedMs;
      console.log(
        `epoch ${p.step}/${p.totalSteps} loss ${p.loss?.toFixed(5)} ${(p.elapsedMs / 1000).toFixed(1)} s`,
      );
    },
  },
);
// The first epoch includes warm-up; measure the rest.
const measured = epochTimes.length > 1 ? epochTimes.slice(1) : epochTimes;
const secondsPerEpoch = measured.reduce((s, v) => s + v, 0) / measured.length / 1000;
const samplesPerSecond = rows / secondsPerEpoch;
const ourFlops = samplesPerSecond * flopsPerSample;

const matMulAfter = timeMatMuls(8);
const matMulFlops = (matMulBefore + matMulAfter) / 2;

// 3) Online assignment throughput with the same architecture.
const assigner = ModelVersion.ofParameters({
  encoder: pre.encoder,
  decoder: pre.decoder,
  centroids: new Float32Array(10 * 10).map((_, i) => Math.sin(i)),
  clusters: 10,
  embeddingSize: 10,
  alpha: 1,
});
const assignBatch = { data: data.subarray(0, 1024 * 784), rows: Math.min(1024, rows), cols: 784 };
assigner.assign(assignBatch);
const assignClock = stopwatch();
const assignRepeats = 5;
for (let r = 0; r < assignRepeats; r++) assigner.assign(assignBatch);
const assignRowsPerSecond = (assignBatch.rows * assignRepeats) / assignClock.seconds();
assigner.dispose();
x.dispose();

const result = {
  ...runFacts(),
  backend,
  architecture: widths,
  batchSize,
  rows,
  epochs: pre.epochs,
  flopsPerSample,
  pretrain: {
    secondsPerEpoch,
    samplesPerSecond,
    gflops: ourFlops / 1e9,
    wallSeconds: pre.wallMs / 1000,
    finalLoss: pre.loss,
  },
  matMul: { gflops: matMulFlops / 1e9, before: matMulBefore / 1e9, after: matMulAfter / 1e9 },
  ratioToMatMul: ourFlops / matMulFlops,
  assignRowsPerSecond,
};

printDocTable('train', { train: result });
console.log(`\nwrote ${writeResult(resultFile('train'), result)}`);
