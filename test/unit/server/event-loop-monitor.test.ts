import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventLoopMonitor } from '../../../src/server/event-loop-monitor.js';

void test('maxDelayMs() stays small on an idle loop and grows after the loop was blocked', async () => {
  const monitor = new EventLoopMonitor({ intervalMs: 20, windowMs: 1_000 });
  monitor.start();
  try {
    await sleep(100);
    assert.ok(monitor.maxDelayMs() < 200, `idle delay ${monitor.maxDelayMs()} ms`);
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // Keep the loop busy.
    }
    await sleep(30);
    assert.ok(monitor.maxDelayMs() >= 250, `blocked delay ${monitor.maxDelayMs()} ms`);
  } finally {
    monitor.stop();
  }
});

void test('a delay leaves the window once the window has passed', async () => {
  const monitor = new EventLoopMonitor({ intervalMs: 10, windowMs: 50 });
  monitor.start();
  try {
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // Keep the loop busy.
    }
    await sleep(15);
    assert.ok(monitor.maxDelayMs() >= 100);
    await sleep(200);
    assert.ok(monitor.maxDelayMs() < 100, `after the window ${monitor.maxDelayMs()} ms`);
  } finally {
    monitor.stop();
  }
});
