import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NotMeasured,
  at,
  fillMarkers,
  renderBlocks,
  verdict,
} from '../../../scripts/gen-benchmarks-doc.js';

void test('at() follows dotted paths through objects and arrays and gives undefined past a gap', () => {
  const root = { a: { b: [{ c: 3 }] } };
  assert.equal(at(root, 'a.b.0.c'), 3);
  assert.equal(at(root, 'a.x.0.c'), undefined);
  assert.equal(at(undefined, 'a'), undefined);
});

void test('verdict() says yes, no, or not measured when the figure is missing', () => {
  assert.equal(
    verdict(0.9, (v) => v >= 0.85),
    'yes',
  );
  assert.equal(
    verdict(0.6, (v) => v >= 0.85),
    'no',
  );
  assert.equal(
    verdict(undefined, (v) => v >= 0.85),
    NotMeasured,
  );
});

void test('every block renders "not measured" instead of failing when results are missing', () => {
  const blocks = renderBlocks({});
  for (const [name, block] of Object.entries(blocks)) {
    assert.ok(block.includes(NotMeasured), `${name} says not measured`);
  }
});

void test('a result without some fields renders the rest and marks the missing ones', () => {
  const blocks = renderBlocks({
    quality: {
      mnist: {
        defaultMethod: 'idec',
        summary: { idec: { acc: { median: 0.9, min: 0.88, max: 0.91 } } },
      },
    },
  });
  assert.match(
    blocks.quality ?? '',
    /\| IDEC \(default\) \| 0\.900 \(0\.880–0\.910\) \| not measured \|/,
  );
  assert.match(blocks.quality ?? '', /≥ 0\.85 median \| yes \|/);
  assert.ok((blocks.quality ?? '').includes('The one measured target is met.'));
});

void test('fillMarkers() replaces only the text between a pair of markers', () => {
  const doc = [
    'intro',
    '<!-- bench:train:start -->',
    'old table',
    '<!-- bench:train:end -->',
    'prose',
    '<!-- bench:other:start -->',
    'kept',
    '<!-- bench:other:end -->',
  ].join('\n');
  const out = fillMarkers(doc, { train: '| new |', missing: 'x' });
  assert.equal(
    out,
    [
      'intro',
      '<!-- bench:train:start -->',
      '',
      '| new |',
      '',
      '<!-- bench:train:end -->',
      'prose',
      '<!-- bench:other:start -->',
      'kept',
      '<!-- bench:other:end -->',
    ].join('\n'),
  );
  assert.equal(fillMarkers(out, { train: '| new |' }), out);
  assert.throws(() => fillMarkers('<!-- bench:train:start -->', { train: 'x' }), /has no/);
});

void test('the machine line reads the date and machine that bench/common writes, and older fields', () => {
  const machine = { cores: 2, cpuModel: 'AMD EPYC', node: 'v20.20.2', loadAverageAtStart: [1.5] };
  const current = renderBlocks({
    train: { date: '2026-12-05T17:00:00Z', machine, backend: 'wasm' },
  });
  assert.match(
    current.train ?? '',
    /^_Measured 2026-12-05 · 2 vCPU AMD EPYC · Node 20\.20\.2 · tfjs backend wasm · 1-min load average at start 1\.5\._/,
  );
  const older = renderBlocks({
    drift: { date: '2026-11-27T10:00:00Z', cpus: 2, cpuModel: 'AMD EPYC', node: 'v20.20.2' },
    stream: { createdAt: '2026-11-28T10:00:00Z', machine: { cpus: 4, node: 'v20.1.0' } },
  });
  assert.match(older.drift ?? '', /^_Measured 2026-11-27 · 2 vCPU AMD EPYC · Node 20\.20\.2\._/);
  assert.match(older.stream ?? '', /^_Measured 2026-11-28 · 4 vCPU · Node 20\.1\.0\._/);
});

void test('a suite run over one half says so for the other instead of summing nothing', () => {
  const row = {
    set: 'iris',
    half: 'tuning',
    kmeansBest: 0.893,
    aeKmeansMedian: 0.933,
    deepMedian: 0.953,
    defaultMedian: 0.953,
    spread: 0,
    gainOverKmeans: 0.06,
    servedKinds: ['dec'],
    criterionSpearman: 1,
    trainSecondsMedian: 58,
    orderInvariant: true,
  };
  const block = renderBlocks({ suite: { seeds: 1, orders: 1, summary: [row] } }).suite ?? '';
  assert.match(block, /\| iris \| 0\.893 \| 0\.933 \| 0\.953 \| 0\.953 \| \+0\.060 \|/);
  assert.match(block, /_No held-out set in this run\._/);
  assert.doesNotMatch(block, /Infinity/);
});

void test('the scale block shows each set-up as a ratio to one replica and the swap time, "–" where a share does not apply', () => {
  const block =
    renderBlocks({
      scale: {
        settings: { records: 1000, partitions: 6, rounds: 1 },
        setups: [
          { replicas: 1, scaleOut: false, recordsPerSecond: 500, ratioToOneReplica: 1.25 },
          {
            replicas: 1,
            scaleOut: true,
            recordsPerSecond: 400,
            ratioToOneReplica: 1,
            trainerProcessCpuShare: 1,
            trainerRoleCpuShare: 0.3,
            loadAverages: [2.5],
          },
          { replicas: 3, scaleOut: true, recordsPerSecond: 600, ratioToOneReplica: 1.5 },
        ],
        swapToEveryReplicaMs: { median: 140, max: 230, versions: 5 },
      },
    }).scale ?? '';
  assert.match(block, /\| 1 worker, no scale-out \(reference\) \| 500 \| 1\.25× \|.*\| – \| – \|/);
  assert.match(block, /\| 1 replica \| 400 \| 1\.00× \| not measured \| 100 % \| 30 % \| 2\.50 \|/);
  assert.match(block, /\| 3 replicas \| 600 \| 1\.50× \|/);
  assert.match(block, /median 140 ms, slowest 230 ms over 5 versions/);
});

void test('the external tables block names the better k-means input and counts tables at or above it', () => {
  const external = {
    date: '2026-12-06T18:00:00.000Z',
    scikitLearn: '1.9.1',
    seeds: [1, 2, 3],
    tables: [
      {
        name: 'wine',
        clusters: 3,
        rows: 178,
        features: 13,
        kmeansRaw: 0.7,
        kmeansStandardised: 0.966,
        servedMedian: 0.966,
        servedMin: 0.966,
        servedMax: 0.966,
        gainOverKmeans: 0,
        spread: 0,
        runs: [
          { modelKind: 'kmeans', trainSeconds: 3.4 },
          { modelKind: 'kmeans', trainSeconds: 3.8 },
        ],
        sameModelInAnotherOrder: true,
        suggestedK: [3, 3],
      },
      {
        name: 'digits',
        clusters: 10,
        kmeansRaw: 0.79,
        kmeansStandardised: 0.59,
        gainOverKmeans: -0.01,
        suggestedK: [11, 7],
      },
    ],
  };
  const block = renderBlocks({ external }).external ?? '';
  assert.match(
    block,
    /\| wine \(178 × 13, k = 3\) \| 0\.966 \(standardised\) \| 0\.966 \(0\.966–0\.966\) \| \+0\.000 \| 0\.000 \| 0 of 2 \| yes \| 3–4 \| 3, 3 \|/,
  );
  assert.match(block, /\| digits .*\| 0\.790 \(raw\) \| not measured/);
  assert.match(
    block,
    /At or above k-means on 1 of 2 tables; suggest-k found k in 2 of 4 runs, within ±1 in 3\./,
  );
});
