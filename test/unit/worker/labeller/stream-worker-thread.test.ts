import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JsonCodec } from '../../../../src/codec/json-codec.js';
import { initBackend } from '../../../../src/model/backend.js';
import { ThreadLabeller } from '../../../../src/worker/labeller/thread-labeller.js';
import { Phase } from '../../../../src/worker/observer.js';
import type { BootstrapTrainer } from '../../../../src/worker/stream-worker.js';
import { StreamWorker } from '../../../../src/worker/stream-worker.js';
import { FakeSink, FakeStream, jsonRecord, MemoryStore } from '../fakes.js';
import { labelThreadEntry, threadOf } from './label-thread-entry.js';
import { tinySnapshot } from '../tiny-snapshot.js';

before(async () => {
  await initBackend('cpu');
});

const labellers: ThreadLabeller[] = [];
after(async () => {
  await Promise.all(labellers.map((l) => l.close()));
});

async function threadWorker(delivery: FakeSink['delivery']): Promise<{
  worker: StreamWorker;
  stream: FakeStream;
  sink: FakeSink;
  labeller: ThreadLabeller;
}> {
  const { labeller } = await ThreadLabeller.start({
    codec: { format: 'json' },
    backend: 'cpu',
    entry: labelThreadEntry,
  });
  labellers.push(labeller);
  const stream = new FakeStream();
  const sink = new FakeSink();
  sink.delivery = delivery;
  const train: BootstrapTrainer = () => Promise.reject(new Error('no training here'));
  const worker = new StreamWorker({
    stream,
    sink,
    store: new MemoryStore(tinySnapshot(3)),
    codec: new JsonCodec(),
    labeller,
    train,
    settings: {
      inputTopic: 'in',
      features: ['x', 'y'],
      batchMaxRecords: 2,
      maxInFlightBatches: 2,
      bootstrap: { records: 4, minRecords: 2, maxWaitMs: 60_000 },
    },
  });
  await worker.start();
  return { worker, stream, sink, labeller };
}

const records = (from: number, count: number): ReturnType<typeof jsonRecord>[] =>
  Array.from({ length: count }, (_, i) =>
    jsonRecord(from + i, (from + i) % 3 === 0 ? { x: 10, y: 9 } : { x: 0.1, y: 0.2 }),
  );

void test('with a labelling thread an exactly-once batch is one unit in offset order, chunks split between the threads', async () => {
  const { worker, stream, sink } = await threadWorker('exactly-once');
  const batch = [...records(0, 4), jsonRecord(4, 'not json'), ...records(5, 4)];
  await stream.deliver(batch);
  assert.equal(sink.units.length, 1);
  const unit = sink.units[0];
  assert.equal(unit?.nextOffset, '9');
  assert.deepEqual(
    unit?.labelled.map((m) => m.key?.toString()),
    ['k0', 'k1', 'k2', 'k3', 'k5', 'k6', 'k7', 'k8'],
    'labelled records keep their offset order whichever thread labelled them',
  );
  assert.deepEqual(
    unit?.labelled.map((m) => (JSON.parse(String(m.value)) as { cluster: number }).cluster),
    [1, 0, 0, 1, 0, 1, 0, 0],
  );
  assert.ok(unit?.labelled.every((m) => String(m.headers['dec-model-version']) === '3'));
  assert.deepEqual(
    unit?.deadLetters.map((m) => m.key?.toString()),
    ['k4'],
  );
  await worker.close();
  assert.equal(await worker.done, Phase.Stopped);
});

void test('with a labelling thread at-least-once chunks publish one by one in offset order', async () => {
  const { worker, stream, sink } = await threadWorker('at-least-once');
  await stream.deliver(records(0, 7));
  assert.deepEqual(
    sink.units.map((u) => u.nextOffset),
    ['2', '4', '6', '7'],
  );
  assert.equal(sink.maxConcurrent, 1, 'publishing stays one unit at a time');
  assert.equal(stream.resolved.get(0), '6');
  await worker.close();
});

void test('a labelling thread that dies fails the batch with a clear error and publishes nothing more', async () => {
  const { worker, stream, sink, labeller } = await threadWorker('at-least-once');
  await threadOf(labeller).terminate();
  await assert.rejects(stream.deliver(records(0, 3)), /labelling thread exited unexpectedly/);
  assert.equal(sink.units.length, 0, 'nothing is published');
  assert.equal(stream.resolved.get(0), undefined, 'nothing is committed');
  await worker.close();
});

void test('closing the worker terminates its labelling thread', async () => {
  const { worker, labeller } = await threadWorker('at-least-once');
  const thread = threadOf(labeller);
  const exited = new Promise((resolve) => thread.once('exit', resolve));
  await worker.close();
  await exited;
  assert.equal(thread.threadId, -1);
});
