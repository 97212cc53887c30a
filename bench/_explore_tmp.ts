import { nonLinearMixture } from './data/synthetic-mixture.js';
import { kmeansRestarts } from '../src/model/kmeans-init.js';
import { SeededRandom } from '../src/model/rng.js';
import { clusteringAccuracy } from '../src/model/evaluation.js';
import { trainDec } from '../src/model/train-dec.js';
import { resolveDecOptions } from '../src/model/defaults.js';
import { initBackend } from '../src/model/backend.js';
import type { Matrix } from '../src/model/types.js';
function std(x: Matrix): Matrix { const m=new Float64Array(x.cols), s=new Float64Array(x.cols); for(let i=0;i<x.rows;i++)for(let c=0;c<x.cols;c++)m[c]+=x.data[i*x.cols+c]/x.rows; for(let i=0;i<x.rows;i++)for(let c=0;c<x.cols;c++)s[c]+=(x.data[i*x.cols+c]-m[c])**2/x.rows; const d=new Float32Array(x.data.length); for(let i=0;i<x.rows;i++)for(let c=0;c<x.cols;c++)d[i*x.cols+c]=(x.data[i*x.cols+c]-m[c])/Math.sqrt(s[c]); return {data:d,rows:x.rows,cols:x.cols}; }
await initBackend();
const configs = JSON.parse(process.argv[2]!) as { sep: number; bend: number; dseed: number; dims?: number; k?: number; latent?: number }[];
for (const c of configs) {
  const dims = c.dims ?? 12, k = c.k ?? 6;
  const t = nonLinearMixture({ samples: 2000, dims, clusters: k, separation: c.sep, seed: 1, distributionSeed: c.dseed, bend: c.bend, latentDims: c.latent });
  const x = std(t.x);
  const km = kmeansRestarts(x, k, 10, new SeededRandom(1));
  const out: string[] = [];
  for (const method of ['dec','idec'] as const) for (const seed of [1,2]) {
    const o = resolveDecOptions({ clusters: k, method, seed, pretrainEpochs: Number(process.env.EP ?? 40), maxIterations: 1000, hiddenSizes: [64,64,256] }, dims);
    const r = await trainDec(x, o);
    const { Assigner } = await import('../src/online/assigner.js');
    const a = new Assigner(r.parameters); const lab = a.assign(x).cluster; a.dispose();
    out.push(`${method}/${seed} ${clusteringAccuracy(t.labels, lab).toFixed(3)}`);
  }
  console.log(JSON.stringify(c), 'kmeans', clusteringAccuracy(t.labels, km.labels).toFixed(3), out.join(' '));
}
