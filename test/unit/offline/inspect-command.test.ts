import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import pngjs from 'pngjs';
import { clusterStatistics } from '../../../src/model/cluster-statistics.js';
import { resolveDecOptions } from '../../../src/model/defaults.js';
import { kmeansParameters } from '../../../src/model/kmeans-model.js';
import { imageFieldOf, prototypeGrid } from '../../../src/model/prototype-grid.js';
import type { ModelSnapshot } from '../../../src/model/types.js';
import type { CommandIo } from '../../../src/offline/command-io.js';
import { runInspectCommand } from '../../../src/offline/inspect-command.js';
import type { ProgressStream } from '../../../src/offline/progress.js';
import { FsModelStore } from '../../../src/store/fs-model-store.js';

/**
 * A k-means model of 4 × 4 images with two clusters: a bright left column and a bright right
 * column. Pixels are 0 or 10, scaled globally (mean 2.5, std 5 in input units).
 */
function imageSnapshot(): ModelSnapshot {
  const side = 4;
  const dims = side * side;
  const mean = new Float32Array(dims).fill(2.5);
  const std = new Float32Array(dims).fill(5);
  const image = (column: number): number[] =>
    Array.from({ length: dims }, (_, p) => (p % side === column ? 10 : 0));
  const raw = [image(0), image(0), image(3), image(3), image(3)];
  const x = {
    data: Float32Array.from(raw.flat().map((v) => (v - 2.5) / 5)),
    rows: raw.length,
    cols: dims,
  };
  const centroids = Float32Array.from([...image(0), ...image(3)].map((v) => (v - 2.5) / 5));
  const stats = clusterStatistics(
    x,
    {
      rows: 5,
      clusters: 2,
      cluster: Int32Array.from([0, 0, 1, 1, 1]),
      confidence: Float32Array.from([0.9, 0.8, 0.99, 0.7, 0.95]),
      q: new Float32Array(10),
      distance: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]),
    },
    { mean, std },
    { ids: ['0:10', '0:11', '0:12', '0:13', '0:14'] },
  );
  return {
    formatVersion: 1,
    version: 5,
    createdAt: new Date(0).toISOString(),
    featureSpec: { fields: ['pixels'], widths: [dims] },
    standardisation: { mean, std },
    options: resolveDecOptions({ clusters: 2 }, dims, 5),
    parameters: kmeansParameters(centroids, 2, dims, 1),
    metrics: {
      backend: 'cpu',
      samples: 5,
      inputDims: dims,
      modelKind: 'kmeans',
      pretrainEpochs: 0,
      pretrainLoss: 0,
      kmeansInertia: 0,
      clusterIterations: 0,
      finalKl: 0,
      finalLabelChangeFraction: 0,
      clusterSizes: [2, 3],
      reconstructionError: 0,
      pretrainSamplesPerSecond: 0,
      wallMs: { pretrain: 0, kmeans: 0, cluster: 0 },
    },
    clusterStatistics: stats,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'dec-inspect-'));
after(() => rm(dir, { recursive: true, force: true }));

function captureIo(): { io: CommandIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const stderr = new PassThrough() as unknown as ProgressStream;
  (stderr as unknown as PassThrough).on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough() }, stdout: () => out, stderr: () => err };
}

void test('inspect --json --png: the profiles in JSON, and a PNG row per cluster of prototype and members', async () => {
  const models = join(dir, 'images');
  await new FsModelStore(models, { log: () => undefined }).save(imageSnapshot());
  const png = join(dir, 'clusters.png');
  const { io, stdout } = captureIo();
  assert.equal(await runInspectCommand(['--model-dir', models, '--json', '--png', png], io), 0);
  const info = JSON.parse(stdout()) as {
    version: number;
    profiles: { cluster: number; share: number; nearest: { id: string }[] }[];
  };
  assert.equal(info.version, 5);
  assert.deepEqual(
    info.profiles.map((p) => [p.cluster, p.share, p.nearest.map((m) => m.id)]),
    [
      [0, 0.4, ['0:10', '0:11']],
      [1, 0.6, ['0:12', '0:13', '0:14']],
    ],
  );

  const image = pngjs.PNG.sync.read(await readFile(png));
  const grid = prototypeGrid(imageSnapshot());
  assert.ok(grid !== undefined);
  assert.deepEqual([image.width, image.height], [grid.width, grid.height]);
  // 4 × 4 images scale to 64-pixel tiles: two rows of a prototype and five member slots.
  assert.equal(grid.height, 2 + 2 * (64 + 2));
  const grey = (x: number, y: number): number => image.data[(y * image.width + x) * 4] as number;
  // Cluster 0's prototype: its left column bright, its right column dark.
  assert.equal(grey(2 + 8, 2 + 8), 255);
  assert.equal(grey(2 + 56, 2 + 8), 0);
  // Cluster 1's first member (its most confident, a right-column image) beside its prototype.
  const memberLeft = 2 + 64 + 8;
  const rowTop = 2 + 64 + 2;
  assert.equal(grey(memberLeft + 8, rowTop + 8), 0);
  assert.equal(grey(memberLeft + 56, rowTop + 8), 255);
  // Cluster 0 has two members: its third slot is an empty, mid-grey tile.
  assert.equal(grey(memberLeft + 2 * (64 + 2) + 8, 2 + 8), 128);
});

void test('inspect prints a table of the profiles on a terminal', async () => {
  const models = join(dir, 'table');
  await new FsModelStore(models, { log: () => undefined }).save(imageSnapshot());
  const { io, stdout } = captureIo();
  assert.equal(await runInspectCommand(['--model-dir', models], io), 0);
  const text = stdout();
  assert.match(text, /^model version 5 \(kmeans, 2 clusters, 16 inputs/);
  // Every column of these images sets a cluster apart equally: the first position leads.
  assert.match(text, /\n1 +60\.0 % +3 +0\.880 +pixels\[0\] z=-0\.82 \(0 vs 4\)\n/);
  assert.match(text, /\n {2}pixels positions +pixels\[\d+\] z=/);
  assert.match(text, /\n {2}nearest records +0:12 \(0\.3\), 0:13 \(0\.4\), 0:14 \(0\.5\)/);
});

void test('imageFieldOf() finds a square vector field or the augmentation size', () => {
  const snapshot = imageSnapshot();
  assert.deepEqual(imageFieldOf(snapshot), { field: 'pixels', offset: 0, width: 4, height: 4 });
  const wide: ModelSnapshot = {
    ...snapshot,
    featureSpec: { fields: ['id', 'pixels'], widths: [1, 16] },
    options: {
      ...snapshot.options,
      imageAugmentation: { width: 8, height: 2, maxShift: 1, maxRotationDegrees: 0 },
    },
  };
  assert.deepEqual(imageFieldOf(wide), { field: 'pixels', offset: 1, width: 8, height: 2 });
  const tabular: ModelSnapshot = {
    ...snapshot,
    featureSpec: { fields: ['a', 'v'], widths: [1, 3] },
  };
  assert.equal(imageFieldOf(tabular), undefined);
});
