import { kmeans } from 'ml-kmeans';
import { initBackend } from '../src/model/backend.js';
import { resolveDecOptions } from '../src/model/defaults.js';
import { clusteringAccuracy } from '../src/model/evaluation.js';
import { fitStandardisation, standardise } from '../src/model/standardise.js';
import { trainDec } from '../src/model/train-dec.js';
import { Assigner } from '../src/online/assigner.js';
import { RefinementEngine, defaultRefinementSettings } from '../src/online/refinement-engine.js';
import { mulberry32 } from '../src/online/refinement-policy.js';
await initBackend('auto');
// copy of generator
function gen(rot: number, rows: number, seed: number, t0: number, t1: number) {
  const shape = mulberry32(7);
  const g = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const hidden = 16, dims = 10, k = 4, radius = 6, spread = 0.55;
  const w1 = Array.from({ length: hidden * 2 }, () => g(shape) * 0.9);
  const b1 = Array.from({ length: hidden }, () => g(shape) * 0.3);
  const w2 = Array.from({ length: dims * hidden }, () => g(shape) / Math.sqrt(hidden));
  const random = mulberry32(seed);
  const data = new Float32Array(rows * dims); const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const t = t0 + (t1 - t0) * i / rows;
    const c = Math.floor(random() * k); labels[i] = c;
    const angle = 2 * Math.PI * c / k + (c % 2 === 0 ? rot * Math.PI * t / 180 : 0);
    const lx = (radius * Math.cos(angle) + spread * g(random)) / radius;
    const ly = (radius * Math.sin(angle) + spread * g(random)) / radius;
    const h = Array.from({ length: hidden }, (_, a) => Math.tanh(w1[2*a]! * lx + w1[2*a+1]! * ly + b1[a]!));
    for (let d = 0; d < dims; d++) { let v = 0; for (let a = 0; a < hidden; a++) v += w2[d*hidden+a]! * h[a]!; data[i*dims+d] = v + 0.03 * g(random); }
  }
  return { x: { data, rows, cols: dims }, labels };
}
const boot = gen(70, 1500, 11, 0, 0);
const s = fitStandardisation(boot.x);
const opts = resolveDecOptions({ clusters: 4, hiddenSizes: [32, 64], embeddingSize: 4, pretrainEpochs: 30, kmeansRestarts: 10, maxIterations: 600 }, 10);
const { parameters, metrics } = await trainDec(standardise(boot.x, s), opts);
const a = new Assigner(parameters);
for (const t of [0, 0.3, 0.5, 0.7, 1.0]) {
  const late = gen(70, 1000, 99, t, t);
  const xs = standardise(late.x, s);
  const z = a.embed(xs);
  const rows = Array.from({ length: z.rows }, (_, i) => Array.from(z.data.subarray(i * z.cols, (i + 1) * z.cols)));
  const km = kmeans(rows, 4, { seed: 1, initialization: 'kmeans++' });
  const xr = Array.from({ length: xs.rows }, (_, i) => Array.from(xs.data.subarray(i * 10, (i + 1) * 10)));
  const km2 = kmeans(xr, 4, { seed: 1, initialization: 'kmeans++' });
  console.log('t', t, 'frozen', clusteringAccuracy(late.labels, a.assign(xs).cluster).toFixed(3), 'kmeans on frozen embedding', clusteringAccuracy(late.labels, km.clusters).toFixed(3), 'kmeans raw', clusteringAccuracy(late.labels, km2.clusters).toFixed(3));
}
// encoder refine reject reasons
const snap = { formatVersion: 1 as const, version: 1, createdAt: '', featureSpec: { fields: ['f'], widths: [10] }, standardisation: s, options: opts, parameters, metrics };
for (const lr of [0.01, 0.1, 1]) {
  const e = new RefinementEngine(snap, { ...defaultRefinementSettings, learningRate: lr, steps: 5, updateEncoder: true });
  const w = standardise(gen(70, 2000, 5, 0.1, 0.2).x, s);
  const o = e.refine(w, Float32Array.from(metrics.clusterSizes));
  console.log('enc lr', lr, o.accepted, o.reason, o.detail, o.loss, o.lossBefore);
}
