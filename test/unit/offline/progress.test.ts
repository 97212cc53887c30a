import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { TrainingProgress } from '../../../src/model/types.js';
import { createProgressReporter, formatDuration } from '../../../src/offline/progress.js';

function capture(isTTY: boolean): {
  text: () => string;
  write: (s: string) => void;
  isTTY: boolean;
} {
  let out = '';
  return { text: () => out, write: (s: string) => void (out += s), isTTY };
}

const steps = (
  phase: TrainingProgress['phase'],
  total: number,
  until = total,
): TrainingProgress[] =>
  Array.from({ length: until }, (_, i) => ({
    phase,
    step: i + 1,
    totalSteps: total,
    loss: 1 / (i + 1),
    elapsedMs: (i + 1) * 100,
  }));

void test('formatDuration() prints m:ss and h:mm:ss', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(65_000), '1:05');
  assert.equal(formatDuration(3_725_000), '1:02:05');
  assert.equal(formatDuration(Number.NaN), '--:--');
});

void test('plain output prints the first and last step of each phase, throttled in between', () => {
  const stream = capture(false);
  let clock = 0;
  const reporter = createProgressReporter(stream, { intervalMs: 1000, now: () => clock });
  for (const p of steps('pretrain', 10)) {
    clock += 100;
    reporter.onProgress(p);
  }
  // The cluster phase converges early: its last seen step is printed when training ends.
  for (const p of steps('cluster', 100, 3)) reporter.onProgress(p);
  reporter.done();
  const lines = stream.text().trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split('  ')[0]),
    [
      'pretrain epoch 1/10',
      'pretrain epoch 10/10',
      'cluster iteration 1/100',
      'cluster iteration 3/100',
    ],
  );
  assert.match(lines[0] as string, /loss 1\.000 .*eta 0:01/);
});

void test('a terminal gets one bar redrawn in place with ETA, ended by a newline per phase', () => {
  const stream = capture(true);
  const reporter = createProgressReporter(stream, { intervalMs: 0 });
  for (const p of steps('pretrain', 4)) reporter.onProgress(p);
  reporter.done();
  const text = stream.text();
  assert.equal(text.split('\n').length - 1, 1);
  assert.equal(text.split('\r').length - 1, 4);
  assert.match(text, /pretrain +\[#+\] epoch 4\/4 +loss 0\.2500 +ETA 0:00\n$/);
});
