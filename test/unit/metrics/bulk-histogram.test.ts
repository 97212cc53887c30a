import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { BulkHistogram } from '../../../src/metrics/bulk-histogram.js';

void test('observeMany() puts each value in the first bucket whose bound is not below it', async () => {
  const registry = new Registry();
  const histogram = new BulkHistogram({
    name: 'test_values',
    help: 'Values.',
    buckets: [1, 2, 5],
    registers: [registry],
  });
  histogram.observeMany([0.5, 1, 1.5, 5, 7, Number.POSITIVE_INFINITY]);
  const text = await registry.metrics();
  assert.match(text, /^# TYPE test_values histogram$/m);
  assert.match(text, /^test_values_bucket\{le="1"\} 2$/m);
  assert.match(text, /^test_values_bucket\{le="2"\} 3$/m);
  assert.match(text, /^test_values_bucket\{le="5"\} 4$/m);
  assert.match(text, /^test_values_bucket\{le="\+Inf"\} 5$/m);
  assert.match(text, /^test_values_sum 15$/m);
  assert.match(text, /^test_values_count 5$/m);
});

void test('reset() through the registry empties every bucket', async () => {
  const registry = new Registry();
  const histogram = new BulkHistogram({
    name: 'h',
    help: 'h',
    buckets: [1],
    registers: [registry],
  });
  histogram.observe(0.2);
  registry.resetMetrics();
  assert.equal(histogram.observations, 0);
  assert.match(await registry.metrics(), /^h_bucket\{le="1"\} 0$/m);
});

void test('buckets that do not increase are refused', () => {
  assert.throws(() => new BulkHistogram({ name: 'h', help: 'h', buckets: [1, 1] }), RangeError);
});

void test('a batch of ten thousand values costs well under a millisecond per thousand', () => {
  const histogram = new BulkHistogram({ name: 'h', help: 'h', buckets: [0.1, 0.5, 0.9, 1] });
  const values = Float32Array.from({ length: 10_000 }, (_, i) => (i % 100) / 100);
  const started = performance.now();
  for (let i = 0; i < 10; i++) histogram.observeMany(values);
  const perThousandMs = (performance.now() - started) / 100;
  assert.equal(histogram.observations, 100_000);
  assert.ok(perThousandMs < 1, `took ${perThousandMs.toFixed(3)} ms per thousand values`);
});
