import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { ShutdownSignals } from '../../src/shutdown-signals.js';

void test('the first SIGTERM or SIGINT aborts the signal; listeners hear every one, earlier ones replayed', () => {
  const source = new EventEmitter();
  const signals = ShutdownSignals.listen(source);
  assert.equal(source.listenerCount('SIGTERM'), 1);
  assert.equal(source.listenerCount('SIGINT'), 1);
  assert.equal(signals.signal.aborted, false);

  source.emit('SIGTERM', 'SIGTERM');
  assert.equal(signals.signal.aborted, true);
  assert.equal(signals.signal.reason, 'SIGTERM');

  const heard: [string, number][] = [];
  signals.onSignal((signal, count) => heard.push([signal, count]));
  assert.deepEqual(heard, [['SIGTERM', 1]], 'a signal before the listener is replayed');
  source.emit('SIGINT', 'SIGINT');
  assert.deepEqual(heard, [
    ['SIGTERM', 1],
    ['SIGINT', 2],
  ]);
  assert.equal(signals.count, 2);
  assert.equal(source.listenerCount('SIGTERM'), 1, 'still listening after the first signal');
});

void test('a listener that throws does not stop the others from hearing the signal', () => {
  const source = new EventEmitter();
  const signals = ShutdownSignals.listen(source);
  const heard: number[] = [];
  signals.onSignal(() => {
    throw new Error('boom');
  });
  signals.onSignal((_signal, count) => heard.push(count));
  source.emit('SIGTERM', 'SIGTERM');
  assert.deepEqual(heard, [1]);
});
