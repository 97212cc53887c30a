import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fullCollection, HeapTrimmer } from '../../../src/runtime/heap-trimmer.js';
import type { HeapTrimEvent } from '../../../src/runtime/heap-trimmer.js';

const MiB = 2 ** 20;

interface FakeHeap {
  /** What a reading returns now. */
  bytes: number;
  /** What a collection leaves. */
  live: number;
  collections: number;
}

/** A heap of 50 MiB, all of it live. */
function freshHeap(): FakeHeap {
  return { bytes: 50 * MiB, live: 50 * MiB, collections: 0 };
}

/** Resolves once the current turn of the event loop (and its setImmediate callbacks) is over. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A trimmer over a heap whose size the test sets; a collection frees all but `heap.live`. */
function trimmerOver(
  heap: FakeHeap,
  onCollect?: (event: HeapTrimEvent) => void,
  quietWindowMs?: number,
): HeapTrimmer {
  return new HeapTrimmer({
    headroomBytes: 32 * MiB,
    read: () => heap.bytes,
    collect: () => {
      heap.collections++;
      heap.bytes = heap.live;
    },
    ...(onCollect === undefined ? {} : { onCollect }),
    ...(quietWindowMs === undefined ? {} : { quietWindowMs }),
  });
}

void test('check() collects only once the heap grew past the headroom above its lowest level', () => {
  const heap = freshHeap();
  const events: HeapTrimEvent[] = [];
  const trimmer = trimmerOver(heap, (event) => events.push(event));
  assert.equal(trimmer.check(), false);
  heap.bytes = 82 * MiB; // exactly the headroom: not past it
  assert.equal(trimmer.check(), false);
  heap.bytes = 83 * MiB;
  assert.equal(trimmer.check(), true);
  assert.equal(heap.collections, 1);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.beforeBytes, 83 * MiB);
  assert.equal(events[0]?.afterBytes, 50 * MiB);
  assert.equal(trimmer.collections, 1);
  // V8's own collections lower the floor too: growth counts from the lowest level seen.
  heap.bytes = 40 * MiB;
  assert.equal(trimmer.check(), false);
  heap.bytes = 73 * MiB;
  assert.equal(trimmer.check(), true);
  assert.equal(heap.collections, 2);
});

void test('memory that stays in use raises the floor instead of collecting again and again', () => {
  const heap = freshHeap();
  const trimmer = trimmerOver(heap);
  trimmer.check();
  // The live heap grows (a larger model): the first collection frees nothing of it.
  heap.live = 120 * MiB;
  heap.bytes = 120 * MiB;
  assert.equal(trimmer.check(), true);
  for (let i = 0; i < 10; i++) assert.equal(trimmer.check(), false);
  heap.bytes = 150 * MiB;
  assert.equal(trimmer.check(), false);
  heap.bytes = 153 * MiB;
  assert.equal(trimmer.check(), true);
  assert.equal(heap.collections, 2);
});

void test('a quiet point collects past the headroom once the current turn is over', async () => {
  const heap = freshHeap();
  const events: HeapTrimEvent[] = [];
  const trimmer = trimmerOver(heap, (event) => events.push(event));
  trimmer.quietPoint();
  await nextTurn();
  assert.equal(heap.collections, 0);
  heap.bytes = 90 * MiB;
  // Reported twice in one turn (two fetches cannot start in one, but a caller may repeat it):
  // one check, after the caller's own work in this turn.
  trimmer.quietPoint();
  trimmer.quietPoint();
  assert.equal(heap.collections, 0, 'not within the turn that reported it');
  await nextTurn();
  assert.equal(heap.collections, 1);
  assert.equal(events[0]?.atQuietPoint, true);
});

void test('while quiet points come, the timer collects only past twice the headroom', () => {
  const heap = freshHeap();
  const trimmer = trimmerOver(heap);
  assert.equal(trimmer.tick(), false);
  heap.bytes = 90 * MiB;
  // No quiet point yet: the timer is the only trigger, at the headroom.
  assert.equal(trimmer.tick(), true);
  trimmer.quietPoint();
  heap.bytes = 100 * MiB; // past the headroom above 50, not past twice it
  assert.equal(trimmer.tick(), false);
  heap.bytes = 115 * MiB;
  assert.equal(trimmer.tick(), true);
  assert.equal(heap.collections, 2);
});

void test('quiet points that stop coming hand the headroom back to the timer', async () => {
  const heap = freshHeap();
  const trimmer = trimmerOver(heap, undefined, 20);
  trimmer.tick();
  trimmer.quietPoint();
  await nextTurn();
  heap.bytes = 100 * MiB;
  assert.equal(trimmer.tick(), false);
  await sleep(40);
  assert.equal(trimmer.tick(), true);
});

void test('a headroom of 0 or less is refused', () => {
  assert.throws(() => new HeapTrimmer({ headroomBytes: 0, collect: () => undefined }), RangeError);
  assert.throws(() => new HeapTrimmer({ headroomBytes: -1, collect: () => undefined }), RangeError);
});

void test('start() samples on its timer until stop()', async () => {
  let reads = 0;
  const trimmer = new HeapTrimmer({
    headroomBytes: MiB,
    intervalMs: 5,
    read: () => ++reads * 2 * MiB,
    collect: () => undefined,
  });
  trimmer.start();
  trimmer.start();
  await sleep(60);
  trimmer.stop();
  const seen = reads;
  assert.ok(seen >= 4, `sampled ${seen} times`);
  assert.ok(trimmer.collections >= 2, `collected ${trimmer.collections} times`);
  await sleep(30);
  assert.equal(reads, seen);
});

void test('fullCollection() frees old-generation garbage without exposing a global gc', () => {
  const globalBefore = (globalThis as { gc?: unknown }).gc;
  const gc = fullCollection();
  assert.equal((globalThis as { gc?: unknown }).gc, globalBefore);
  // Small objects that survive a full collection sit in the old generation, where only the next
  // full collection frees them once they are dropped.
  const holder: { records?: { id: number; text: string }[] } = {
    records: Array.from({ length: 400_000 }, (_, i) => ({ id: i, text: `record ${i}` })),
  };
  gc();
  const held = process.memoryUsage().heapUsed;
  assert.equal(holder.records?.length, 400_000);
  delete holder.records;
  gc();
  const freed = held - process.memoryUsage().heapUsed;
  assert.ok(freed > 15 * MiB, `freed ${(freed / MiB).toFixed(1)} MiB`);
});
