/**
 * Prints the suite's data sets: half, rows x cols, k, and the accuracy of plain k-means (10
 * k-means++ restarts, lowest inertia wins) on standardised columns, the baseline a better method has
 * to beat.
 *
 *   node --import tsx bench/suite/describe.ts [--small] [NAME...]
 */
import { evaluateClustering } from '../../src/model/evaluation.js';
import { kmeansRestarts } from '../../src/model/kmeans-init.js';
import { SeededRandom } from '../../src/model/rng.js';
import type { Matrix } from '../../src/model/types.js';
import { suiteDatasets } from './datasets.js';

/** Each column to mean 0, standard deviation 1 (constant columns to 0). */
export function standardise(x: Matrix): Matrix {
  const { rows, cols } = x;
  const data = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < rows; i++) {
      const v = x.data[i * cols + c]!;
      sum += v;
      sq += v * v;
    }
    const mean = sum / rows;
    const std = Math.sqrt(Math.max(sq / rows - mean * mean, 0));
    for (let i = 0; i < rows; i++) {
      data[i * cols + c] = std > 0 ? (x.data[i * cols + c]! - mean) / std : 0;
    }
  }
  return { data, rows, cols };
}

function main(): void {
  const args = process.argv.slice(2);
  const small = args.includes('--small');
  const names = args.filter((a) => !a.startsWith('--'));
  const sets = suiteDatasets({ small }).filter((d) => names.length === 0 || names.includes(d.name));

  console.log(
    `${'name'.padEnd(26)} ${'family'.padEnd(9)} ${'half'.padEnd(8)} ${'rows x cols'.padStart(12)} ${'k'.padStart(3)} ${'chance'.padStart(6)} ${'km ACC'.padStart(6)} ${'km NMI'.padStart(6)}`,
  );
  for (const set of sets) {
    const { x, labels } = set.load();
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const chance = Math.max(...counts.values()) / labels.length;
    const km = kmeansRestarts(standardise(x), set.clusters, 10, new SeededRandom(1));
    const score = evaluateClustering(labels, km.labels);
    console.log(
      `${set.name.padEnd(26)} ${set.family.padEnd(9)} ${set.half.padEnd(8)} ${`${x.rows} x ${x.cols}`.padStart(12)} ${String(set.clusters).padStart(3)} ${chance.toFixed(3).padStart(6)} ${score.acc.toFixed(3).padStart(6)} ${score.nmi.toFixed(3).padStart(6)}`,
    );
  }
}

// Run only as a script, so that other benchmarks can import standardise().
if (process.argv[1]?.endsWith('describe.ts')) main();
