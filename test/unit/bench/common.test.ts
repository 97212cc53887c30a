import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { benchArgs, envNumber } from '../../../bench/common/args.js';
import { inParallel } from '../../../bench/common/child.js';
import { mergeResult, readResult, runFacts, writeResult } from '../../../bench/common/results.js';
import { median, quantile, spread } from '../../../bench/common/stats.js';

void test('benchArgs() reads flags, values in both spellings, and repeated values', () => {
  const args = benchArgs([
    '--small',
    '--sets',
    'iris,spiral',
    '--only=mnist',
    '--option',
    'a=1',
    '--option',
    'b=2',
    '--quick',
  ]);
  assert.equal(args.flag('--small'), true);
  assert.equal(args.flag('--only'), true);
  assert.equal(args.flag('--resume'), false);
  assert.equal(args.value('--sets'), 'iris,spiral');
  assert.equal(args.value('--only'), 'mnist');
  assert.equal(args.value('--quick'), undefined);
  assert.deepEqual(args.values('--option'), ['a=1', 'b=2']);
  assert.equal(args.value('--missing'), undefined);
});

void test('benchArgs() does not take the next flag as a value', () => {
  assert.equal(benchArgs(['--out', '--small']).value('--out'), undefined);
});

void test('envNumber() falls back when unset or empty and rejects text that is not a number', () => {
  assert.equal(envNumber('N', 7, {}), 7);
  assert.equal(envNumber('N', 7, { N: ' ' }), 7);
  assert.equal(envNumber('N', 7, { N: '2.5' }), 2.5);
  assert.throws(() => envNumber('N', 7, { N: 'ten' }), /N must be a number, got 'ten'/);
});

void test('median() and spread() of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(spread([0.9, 0.7, 0.8]), { median: 0.8, min: 0.7, max: 0.9 });
});

void test('quantile() is the nearest rank: the smallest value with a share q at or below it', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(sorted, 0.5), 50);
  assert.equal(quantile(sorted, 0.99), 99);
  assert.equal(quantile(sorted, 1), 100);
  assert.equal(quantile([5], 0.01), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

void test('mergeResult() keeps the keys it is not given and replaces the ones it is', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'nested', 'x.json');
  assert.deepEqual(readResult(file), {});
  writeResult(file, { soak: 1, throughput: 2 });
  mergeResult(file, { throughput: 3, profile: 4 });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { soak: 1, throughput: 3, profile: 4 });
  assert.ok(readFileSync(file, 'utf8').endsWith('}\n'));
});

void test('runFacts() records the date and the machine', () => {
  const facts = runFacts();
  assert.ok(!Number.isNaN(Date.parse(facts.date)));
  assert.ok(facts.machine.cores >= 1);
  assert.equal(facts.machine.node, process.version);
  assert.equal(facts.machine.loadAverageAtStart.length, 3);
});

void test('inParallel() runs every item, never more than `parallel` at once', async () => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  await inParallel(
    [1, 2, 3, 4, 5],
    2,
    async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return n * 10;
    },
    (_, result) => done.push(result),
  );
  assert.equal(most, 2);
  assert.deepEqual(
    done.sort((a, b) => a - b),
    [10, 20, 30, 40, 50],
  );
});
