import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Matrix } from '../../../src/model/types.js';
import { StreamSample } from '../../../src/online/stream-sample.js';

/** Rows 0..rows-1 of one column, each holding its own index (the record's arrival number). */
function numbered(from: number, rows: number): Matrix {
  return { data: Float32Array.from({ length: rows }, (_, i) => from + i), rows, cols: 1 };
}

function feed(sample: StreamSample, total: number, batch = 100): void {
  for (let from = 0; from < total; from += batch)
    sample.add(numbered(from, Math.min(batch, total - from)));
}

void describe('StreamSample', () => {
  void test('keeps every record until it is full, then never more than its capacity', () => {
    const sample = new StreamSample({ capacity: 50, seed: 1 });
    sample.add(numbered(0, 30));
    assert.equal(sample.rows, 30);
    assert.deepEqual(
      Array.from(sample.snapshot().data),
      Array.from({ length: 30 }, (_, i) => i),
    );
    feed(sample, 10_000);
    assert.equal(sample.rows, 50);
    assert.equal(sample.snapshot().data.length, 50);
  });

  void test('a uniform reservoir keeps old and new records alike', () => {
    // Mean arrival number of a uniform sample of 0..19,999 is near 10,000.
    let meanOfMeans = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const sample = new StreamSample({ capacity: 500, seed });
      feed(sample, 20_000);
      const rows = sample.snapshot().data;
      meanOfMeans += rows.reduce((s, v) => s + v, 0) / rows.length / 5;
    }
    assert.ok(Math.abs(meanOfMeans - 10_000) < 600, `mean arrival ${meanOfMeans}`);
  });

  void test('a time-decayed sample keeps mostly recent records, halving every half-life', () => {
    const sample = new StreamSample({ capacity: 500, halfLifeRecords: 1000, seed: 3 });
    feed(sample, 20_000);
    const rows = Array.from(sample.snapshot().data);
    const lastHalfLife = rows.filter((v) => v >= 19_000).length / rows.length;
    const older = rows.filter((v) => v < 15_000).length / rows.length;
    // Expected: about half the sample from the last half-life, about 3 % older than 5 half-lives.
    assert.ok(lastHalfLife > 0.4 && lastHalfLife < 0.6, `last half-life holds ${lastHalfLife}`);
    assert.ok(older < 0.08, `${older} of the sample is older than five half-lives`);
  });

  void test('the same seed and stream give the same sample', () => {
    const a = new StreamSample({ capacity: 64, halfLifeRecords: 500, seed: 9 });
    const b = new StreamSample({ capacity: 64, halfLifeRecords: 500, seed: 9 });
    feed(a, 3000);
    feed(b, 3000, 37);
    assert.deepEqual(a.snapshot().data, b.snapshot().data);
  });

  void test('a new feature width starts the sample afresh', () => {
    const sample = new StreamSample({ capacity: 10, seed: 1 });
    sample.add(numbered(0, 5));
    sample.add({ data: new Float32Array(6), rows: 3, cols: 2 });
    assert.equal(sample.rows, 3);
    assert.equal(sample.snapshot().cols, 2);
  });
});
