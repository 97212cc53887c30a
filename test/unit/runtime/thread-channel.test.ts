import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { DecStreamError, PoisonRecordError } from '../../../src/errors.js';
import { spawnModuleThread } from '../../../src/runtime/module-thread.js';
import type { ThreadLoss } from '../../../src/runtime/thread-channel.js';
import { ThreadChannel } from '../../../src/runtime/thread-channel.js';
import type { TestProtocol } from './channel-thread.js';

class LostError extends DecStreamError {
  constructor(readonly loss: ThreadLoss) {
    super('TEST_THREAD_LOST', `lost: ${loss.cause}`);
  }
}

/** A channel to a fresh test thread, closed when the test ends. */
function open(
  t: TestContext,
  init: Partial<TestProtocol['init']> = {},
  events: string[] = [],
  losses: ThreadLoss[] = [],
): ThreadChannel<TestProtocol> {
  const channel = new ThreadChannel<TestProtocol>(
    spawnModuleThread(import.meta.url, 'channel-thread'),
    { greeting: 'hello', failToStart: false, ...init },
    {
      lostError: (loss) => new LostError(loss),
      initError: (error) => new DecStreamError('TEST_START_FAILED', `no start: ${error.message}`),
      onEvent: (event) => events.push(event),
      onLost: (loss) => losses.push(loss),
    },
  );
  t.after(() => channel.close());
  return channel;
}

void test('ready carries the thread answer to init, and a request is answered', async (t) => {
  const channel = open(t);
  assert.equal(await channel.ready, 'hello, ready');
  assert.equal(await channel.request('echo', 'ping'), 'ping');
});

void test('requests are answered in the order they were sent, even when the first is slow', async (t) => {
  const channel = open(t);
  const order: string[] = [];
  await Promise.all([
    channel.request('slowEcho', { text: 'first', ms: 100 }).then((v) => order.push(v)),
    channel.request('echo', 'second').then((v) => order.push(v)),
  ]);
  assert.deepEqual(order, ['first', 'second']);
});

void test('an error thrown in the thread is rebuilt with its code and retriable flag', async (t) => {
  const channel = open(t);
  await assert.rejects(
    channel.request('failWithCode', { code: 'TEST_BROKER_DOWN', retriable: true }),
    (error: unknown) =>
      error instanceof DecStreamError &&
      error.code === 'TEST_BROKER_DOWN' &&
      error.retriable &&
      error.message === 'failed with TEST_BROKER_DOWN',
  );
  await assert.rejects(
    channel.request('failPoison', undefined),
    (error: unknown) =>
      error instanceof PoisonRecordError &&
      error.reason === 'non-numeric' &&
      error.code === 'POISON_NON_NUMERIC',
  );
  assert.equal(await channel.request('echo', 'still there'), 'still there');
});

void test('a thread that cannot start rejects ready with the owner error, which names the reason', async (t) => {
  const channel = open(t, { failToStart: true });
  await assert.rejects(
    channel.ready,
    (error: unknown) =>
      error instanceof DecStreamError &&
      error.code === 'TEST_START_FAILED' &&
      error.message === 'no start: told not to start',
  );
});

void test('a thread that dies rejects every waiting request and every later one', async (t) => {
  const losses: ThreadLoss[] = [];
  const channel = open(t, {}, [], losses);
  await channel.ready;
  await channel.request('exitSoon', { code: 3, ms: 50 });
  const waiting = [channel.request('hang', undefined), channel.request('echo', 'queued')];
  for (const request of waiting) {
    await assert.rejects(
      request,
      (error: unknown) =>
        error instanceof LostError &&
        error.loss.cause === 'exited' &&
        error.loss.code === 3 &&
        !error.loss.closing,
    );
  }
  assert.equal(await channel.exited, 3);
  assert.equal(channel.gone, true);
  assert.equal(losses.length, 1, 'the owner hears of the loss once');
  await assert.rejects(channel.request('echo', 'anyone?'), LostError);
});

void test('a thread that dies before it is ready rejects ready with the loss', async (t) => {
  const channel = open(t);
  await channel.thread.terminate();
  await assert.rejects(channel.ready, LostError);
});

void test('close lets its drain requests through, rejects the others as closed, and ends the thread', async (t) => {
  const channel = open(t);
  await channel.ready;
  const closed = channel.close(async (request) => {
    assert.equal(await request('echo', 'last words'), 'last words');
  });
  await assert.rejects(
    channel.request('echo', 'too late'),
    (error: unknown) => error instanceof LostError && error.loss.cause === 'closed',
  );
  await closed;
  assert.equal(channel.thread.threadId, -1, 'the thread is gone');
  assert.equal(channel.close(), closed, 'close is idempotent');
});

void test('a request still waiting when the channel closes rejects instead of hanging', async (t) => {
  const channel = open(t);
  await channel.ready;
  const waiting = channel.request('hang', undefined);
  await channel.close();
  await assert.rejects(waiting, LostError);
  await assert.rejects(channel.request('echo', 'anyone?'), LostError);
});

void test('buffers in transfer lists are moved both ways, not copied', async (t) => {
  const channel = open(t);
  const values = Float64Array.from([1, 2, 3]);
  const doubled = await channel.request('double', values, [values.buffer]);
  assert.equal(values.buffer.byteLength, 0, 'the sent buffer now belongs to the thread');
  assert.deepEqual([...doubled], [2, 4, 6]);
});

void test('events the thread sends reach the owner in order with the answers', async (t) => {
  const events: string[] = [];
  const channel = open(t, {}, events);
  await channel.request('log', 'one');
  await channel.request('log', 'two');
  assert.deepEqual(events, ['one', 'two']);
});

void test('a thread that finishes answers first, then ends by itself', async (t) => {
  const losses: ThreadLoss[] = [];
  const channel = open(t, {}, [], losses);
  assert.equal(await channel.request('finish', undefined), 'bye');
  assert.equal(await channel.exited, 0);
  assert.deepEqual(
    losses.map((l) => l.cause),
    ['exited'],
  );
});
