import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BootstrapWindow } from '../../../src/worker/bootstrap-window.js';
import { jsonRecord } from './fakes.js';

const records = (n: number, from = 0): ReturnType<typeof jsonRecord>[] =>
  Array.from({ length: n }, (_, i) => jsonRecord(from + i, {}));

void test('the window closes once it holds the target number of records', async () => {
  const window = new BootstrapWindow({ records: 5, minRecords: 2, maxWaitMs: 60_000 });
  assert.equal(window.add(records(3)), 3);
  assert.ok(window.isCollecting);
  assert.equal(window.add(records(3, 3)), 2, 'only what fills the window is taken');
  assert.ok(!window.isCollecting);
  await window.ready;
  assert.equal(window.size, 5);
  assert.equal(window.add(records(1, 6)), 0, 'a closed window takes nothing more');
  assert.deepEqual(
    window.take().map((r) => r.offset),
    ['0', '1', '2', '3', '4'],
  );
  assert.equal(window.size, 0);
});

void test('after the deadline the window closes only once it holds the minimum', async () => {
  let now = 0;
  const window = new BootstrapWindow({
    records: 100,
    minRecords: 3,
    maxWaitMs: 1_000,
    checkIntervalMs: 5,
    now: () => now,
  });
  now = 2_000;
  window.add(records(2));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(window.isCollecting, 'below the minimum it keeps collecting past the deadline');
  window.add(records(1, 2));
  await window.ready;
  assert.equal(window.size, 3);
});

void test('close() settles ready at once with what was collected', async () => {
  const window = new BootstrapWindow({ records: 100, minRecords: 50, maxWaitMs: 60_000 });
  window.add(records(4));
  window.close();
  await window.ready;
  assert.equal(window.take().length, 4);
});

void test('records fetched again (after a rebalance) are not taken twice', () => {
  const window = new BootstrapWindow({ records: 100, minRecords: 1, maxWaitMs: 60_000 });
  window.add(records(4));
  assert.equal(window.add(records(6)), 6);
  assert.equal(window.size, 6);
  assert.deepEqual(
    window.take().map((r) => r.offset),
    ['0', '1', '2', '3', '4', '5'],
  );
  window.close();
});
