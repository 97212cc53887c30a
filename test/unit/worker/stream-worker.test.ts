import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { JsonCodec } from '../../../src/codec/json-codec.js';
import { initBackend } from '../../../src/model/backend.js';
import type { ModelSnapshot } from '../../../src/model/types.js';
import { Phase, silentObserver } from '../../../src/worker/observer.js';
import type { ModelFeed, ModelRefiner } from '../../../src/worker/ports.js';
import type { BootstrapTrainer, StreamWorkerOptions } from '../../../src/worker/stream-worker.js';
import { StreamWorker } from '../../../src/worker/stream-worker.js';
import { FakeSink, FakeStream, MemoryStore, jsonRecord } from './fakes.js';
import { tinySnapshot } from './tiny-snapshot.js';

before(async () => {
  await initBackend('cpu');
});

const settings = {
  inputTopic: 'in',
  features: ['x', 'y'],
  batchMaxRecords: 2,
  bootstrap: { records: 4, minRecords: 2, maxWaitMs: 60_000 },
};

function worker(overrides: Partial<StreamWorkerOptions> = {}): {
  worker: StreamWorker;
  stream: FakeStream;
  sink: FakeSink;
  store: MemoryStore;
  trained: unknown[][];
} {
  const stream = new FakeStream();
  const sink = new FakeSink();
  const store = (overrides.store as MemoryStore | undefined) ?? new MemoryStore();
  const trained: unknown[][] = [];
  const train: BootstrapTrainer = (records) => {
    trained.push([...records]);
    return Promise.resolve(tinySnapshot());
  };
  const w = new StreamWorker({
    stream,
    sink,
    store,
    codec: new JsonCodec(),
    train,
    settings,
    ...overrides,
  });
  return { worker: w, stream, sink, store, trained };
}

const near = (offset: number, high: boolean): ReturnType<typeof jsonRecord> =>
  jsonRecord(offset, high ? { x: 10, y: 9.5 } : { x: 0.2, y: -0.1 });

void test('with a stored snapshot the worker goes online without training and labels in chunks', async () => {
  const { worker: w, stream, sink, trained } = worker({ store: new MemoryStore(tinySnapshot(3)) });
  await w.start();
  assert.equal(w.phase(), Phase.Online);
  assert.ok(w.isReady());
  await stream.deliver([near(0, false), near(1, true), near(2, true)]);
  assert.equal(trained.length, 0);
  assert.deepEqual(
    sink.units.map((u) => u.nextOffset),
    ['2', '3'],
    'one unit per chunk of batchMaxRecords, each committing past its last record',
  );
  const values = sink.units.flatMap((u) =>
    u.labelled.map(
      (m) => JSON.parse(String(m.value)) as { cluster: number; model_version: number },
    ),
  );
  assert.deepEqual(
    values.map((v) => v.cluster),
    [0, 1, 1],
  );
  assert.ok(values.every((v) => v.model_version === 3));
  assert.equal(String(sink.units[0]?.labelled[0]?.headers['dec-model-version']), '3');
  assert.equal(sink.units[0]?.labelled[0]?.headers.origin, 'unit');
  assert.equal(stream.resolved.get(0), '2');
  await w.close();
  assert.equal(await w.done, Phase.Stopped);
});

void test('the bootstrap trains once on exactly the window, saves, labels the window itself and then resumes fetching', async () => {
  const { worker: w, stream, sink, store, trained } = worker();
  await w.start();
  assert.equal(w.phase(), Phase.Bootstrapping);
  assert.ok(!w.isReady(), 'not ready while bootstrapping');
  await stream.deliver([near(0, false), near(1, true)]);
  assert.equal(sink.units.length, 0, 'nothing is published before the model exists');
  await stream.deliver([near(2, false), jsonRecord(3, 'not json'), near(4, true)]);
  assert.equal(stream.resolved.get(0), '3', 'the record past the window is left to fetch again');
  assert.ok(stream.paused, 'fetching pauses while training');
  for (let i = 0; i < 50 && w.phase() !== Phase.Online; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(w.phase(), Phase.Online);
  assert.ok(!stream.paused, 'fetching resumes once online');
  assert.equal(trained.length, 1);
  assert.equal(trained[0]?.length, 3, 'the undecodable record is not trained on');
  assert.equal(store.saved.length, 1, 'the bootstrap snapshot is saved');
  assert.equal(sink.labelled, 3, 'every window record is labelled');
  assert.equal(
    sink.units.flatMap((u) => u.deadLetters).length,
    1,
    'the poison one is dead-lettered',
  );
  assert.equal(sink.units[sink.units.length - 1]?.nextOffset, '4');
  await stream.deliver([near(4, true)]);
  assert.equal(sink.labelled, 4, 'the record past the window is labelled online');
  assert.equal(sink.units[sink.units.length - 1]?.nextOffset, '5');
  await w.close();
});

void test('ready only while holding partitions and heard from the brokers within the contact timeout', async () => {
  const { worker: w, stream } = worker({
    store: new MemoryStore(tinySnapshot(3)),
    settings: { ...settings, contactTimeoutMs: 40 },
  });
  await w.start();
  stream.contact();
  assert.ok(w.isReady(), 'online, partition 0 held, just heard from the brokers');
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(!w.isReady(), 'silent brokers for longer than the contact timeout');
  stream.contact();
  assert.ok(w.isReady(), 'contact again');
  stream.assign([]);
  assert.ok(!w.isReady(), 'a member that holds no partition labels nothing');
  stream.assign([0]);
  assert.ok(w.isReady());
  await w.close();
});

void test('a snapshot write that fails (read-only or full model directory) is counted and logged, and labelling goes on with the serving version', async () => {
  class FailingStore extends MemoryStore {
    override save(): Promise<void> {
      return Promise.reject(
        Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }),
      );
    }
  }
  const written: boolean[] = [];
  const errors: string[] = [];
  const observer = { ...silentObserver, snapshotWritten: (ok: boolean) => written.push(ok) };
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message: string) => errors.push(message),
    child: () => logger,
  };
  const { worker: w, stream, sink } = worker({ store: new FailingStore(), observer, logger });
  await w.start();
  await stream.deliver([near(0, false), near(1, true), near(2, false), near(3, true)]);
  for (let i = 0; i < 50 && w.phase() !== Phase.Online; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(w.phase(), Phase.Online, 'the failed write does not stop the worker');
  assert.deepEqual(written, [false]);
  assert.ok(
    errors.some((m) => m.includes('snapshot write failed')),
    errors.join('; '),
  );
  await stream.deliver([near(4, true), near(5, false)]);
  assert.equal(sink.labelled, 6, 'the window and later records are labelled');
  await w.close();
  assert.deepEqual(written, [false, false], 'shutdown tries the write once more');
});

void test('a batch delivered while training is left unresolved so that it is fetched again', async () => {
  let release!: (s: ModelSnapshot) => void;
  const train: BootstrapTrainer = () => new Promise((resolve) => (release = resolve));
  const { worker: w, stream, sink } = worker({ train });
  await w.start();
  await stream.deliver([near(0, false), near(1, true), near(2, true), near(3, true)]);
  stream.resolved.clear();
  await stream.deliver([near(4, false)]);
  assert.equal(stream.resolved.size, 0);
  release(tinySnapshot());
  for (let i = 0; i < 50 && w.phase() !== Phase.Online; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(sink.labelled, 4);
  await w.close();
});

void test('records below the committed offset claimed for a partition are skipped, not published again', async () => {
  const { worker: w, stream, sink } = worker({ store: new MemoryStore(tinySnapshot()) });
  sink.committed = '2';
  await w.start();
  await stream.deliver([near(0, false), near(1, true), near(2, true), near(3, false)]);
  assert.equal(sink.labelled, 2);
  assert.deepEqual(
    sink.units.map((u) => u.nextOffset),
    ['4'],
  );
  await w.close();
});

void test('when the stream stops mid-batch only the chunk in flight is published and resolved', async () => {
  const { worker: w, stream, sink } = worker({ store: new MemoryStore(tinySnapshot()) });
  await w.start();
  await stream.deliver(
    [near(0, false), near(1, true), near(2, true), near(3, false), near(4, false)],
    {
      runningFor: 1,
    },
  );
  assert.deepEqual(
    sink.units.map((u) => u.nextOffset),
    ['2'],
  );
  assert.equal(stream.resolved.get(0), '1');
  await w.close();
});

void test('close() runs every clean-up step even when one fails, and reports failed', async () => {
  const { worker: w, stream, sink } = worker({ store: new MemoryStore(tinySnapshot()) });
  await w.start();
  sink.failClose = true;
  await w.close();
  await w.close();
  assert.ok(stream.stopped && stream.closed && sink.closed);
  assert.equal(await w.done, Phase.Failed);
});

void test('a consumer crash fails the worker and closes everything', async () => {
  const { worker: w, stream, sink } = worker({ store: new MemoryStore(tinySnapshot()) });
  await w.start();
  stream.crash(new Error('broker gone'));
  assert.equal(await w.done, Phase.Failed);
  assert.ok(stream.closed && sink.closed);
  assert.equal((w.error as Error).message, 'broker gone');
});

void test('batches of several partitions are handled at once only where the sink queues units in order', async () => {
  const asked = async (
    queuesInOrder: boolean,
    more: Partial<typeof settings & { maxInFlightBatches: number; concurrentBatches: number }> = {},
    delivery: FakeSink['delivery'] = 'at-least-once',
  ): Promise<number | undefined> => {
    const sink = new FakeSink();
    sink.queuesInOrder = queuesInOrder;
    sink.delivery = delivery;
    const started = worker({
      store: new MemoryStore(tinySnapshot()),
      sink,
      settings: { ...settings, maxInFlightBatches: 2, ...more },
    });
    await started.worker.start();
    await started.worker.close();
    return started.stream.startOptions?.concurrentBatches;
  };
  assert.equal(await asked(true), 4);
  assert.equal(await asked(true, { concurrentBatches: 2 }), 2);
  assert.equal(await asked(false), 1);
  assert.equal(await asked(true, { maxInFlightBatches: 1 }), 1);
  assert.equal(await asked(true, {}, 'exactly-once'), 1);
});

void test('batches of two partitions handled at once interleave at the sink, each in offset order', async () => {
  const sink = new FakeSink();
  sink.queuesInOrder = true;
  const { worker: w, stream } = worker({
    store: new MemoryStore(tinySnapshot()),
    sink,
    settings: { ...settings, maxInFlightBatches: 2 },
  });
  await w.start();
  const batchOf = (partition: number): ReturnType<typeof jsonRecord>[] =>
    [0, 1, 2, 3, 4, 5, 6].map((i) =>
      jsonRecord(i, i % 2 === 0 ? { x: 10, y: 9.5 } : { x: 0.2, y: -0.1 }, partition),
    );
  await Promise.all([stream.deliver(batchOf(0)), stream.deliver(batchOf(1))]);
  for (const partition of [0, 1]) {
    assert.deepEqual(
      sink.units.filter((u) => u.partition === partition).map((u) => u.nextOffset),
      ['2', '4', '6', '7'],
    );
    assert.equal(stream.resolved.get(partition), '6');
  }
  const order = sink.units.map((u) => u.partition);
  assert.ok(order.indexOf(1) < order.lastIndexOf(0), `units by partition: ${order.join(' ')}`);
  await w.close();
});

void test("a refiner's newer version serves from the next chunk on, is saved, and sees what was labelled", async () => {
  let next: ModelSnapshot | undefined;
  const observed: number[] = [];
  const refiner: ModelRefiner = {
    start: () => undefined,
    observe: (x, _assignment, version) => observed.push(x.rows * 100 + version),
    poll: () => {
      const snapshot = next;
      next = undefined;
      return snapshot;
    },
    close: () => Promise.resolve(),
  };
  const store = new MemoryStore(tinySnapshot(1));
  const { worker: w, stream, sink } = worker({ store, refiner });
  await w.start();
  await stream.deliver([near(0, false), near(1, true)]);
  next = tinySnapshot(2);
  await stream.deliver([near(2, false), near(3, true)]);
  const versions = sink.units.map((u) => String(u.labelled[0]?.headers['dec-model-version']));
  assert.deepEqual(versions, ['1', '2']);
  assert.deepEqual(observed, [201, 202]);
  assert.deepEqual(
    store.saved.map((s) => s.version),
    [2],
  );
  await w.close();
});

for (const queuesInOrder of [false, true]) {
  // A sink that queues units in order gets the next unit before the previous one is acknowledged.
  const kind = queuesInOrder
    ? 'a sink that queues units in order'
    : 'a sink that publishes one unit at a time';
  const atOnce = queuesInOrder ? 2 : 1;
  /** A worker online with two batches in flight, publishing through such a sink. */
  const withSink = (): ReturnType<typeof worker> => {
    const sink = new FakeSink();
    sink.queuesInOrder = queuesInOrder;
    const started = worker({
      store: new MemoryStore(tinySnapshot()),
      sink,
      settings: { ...settings, maxInFlightBatches: 2 },
    });
    return { ...started, sink };
  };

  void test(`with two batches in flight and ${kind}, units stay in offset order, ${atOnce} with the sink at once`, async () => {
    const { worker: w, stream, sink } = withSink();
    await w.start();
    await stream.deliver([0, 1, 2, 3, 4, 5, 6].map((i) => near(i, i % 2 === 0)));
    assert.deepEqual(
      sink.units.map((u) => u.nextOffset),
      ['2', '4', '6', '7'],
    );
    assert.equal(sink.maxConcurrent, atOnce);
    assert.equal(stream.resolved.get(0), '6');
    await w.close();
  });

  void test(`with ${kind}, a failed publish stops the chunks after it: nothing later is published or resolved`, async () => {
    const { worker: w, stream, sink } = withSink();
    sink.failAt.add('4');
    await w.start();
    await assert.rejects(
      stream.deliver([0, 1, 2, 3, 4, 5, 6, 7].map((i) => near(i, false))),
      /publish of 4 failed/,
    );
    assert.deepEqual(
      sink.units.map((u) => u.nextOffset),
      ['2'],
    );
    // The failed unit, and at most one handed over behind it (which a queueing sink drops).
    assert.ok(sink.handed.length <= atOnce + 1, `handed over: ${sink.handed.join(', ')}`);
    assert.equal(stream.resolved.get(0), '1');
    await w.close();
  });
}

void test('an exactly-once sink gets each fetched batch as one unit, labelled in chunks and reported per chunk', async () => {
  const sink = new FakeSink();
  sink.delivery = 'exactly-once';
  const batches: number[] = [];
  const observer = { ...silentObserver, batch: (records: number) => void batches.push(records) };
  const { worker: w, stream } = worker({
    store: new MemoryStore(tinySnapshot(3)),
    sink,
    observer,
  });
  await w.start();
  await stream.deliver([near(0, false), near(1, true), jsonRecord(2, 'not json'), near(3, true)]);
  assert.deepEqual(
    sink.units.map((u) => [u.nextOffset, u.labelled.length, u.deadLetters.length]),
    [['4', 3, 1]],
    'one unit (one transaction) for the whole batch, committing past its last record',
  );
  assert.deepEqual(batches, [2, 2], 'labelled and reported in chunks of batchMaxRecords');
  assert.equal(stream.resolved.get(0), '3');
  await w.close();
});

void test('unitPerBatch: false keeps one unit per chunk with an exactly-once sink', async () => {
  const sink = new FakeSink();
  sink.delivery = 'exactly-once';
  const { worker: w, stream } = worker({
    store: new MemoryStore(tinySnapshot(3)),
    sink,
    settings: { ...settings, unitPerBatch: false },
  });
  await w.start();
  await stream.deliver([near(0, false), near(1, true), near(2, true)]);
  assert.deepEqual(
    sink.units.map((u) => u.nextOffset),
    ['2', '3'],
  );
  await w.close();
});

void test('start() with an aborted signal does not start consuming, and close() then stops cleanly', async () => {
  const { worker: w, stream, sink } = worker();
  const controller = new AbortController();
  controller.abort();
  await w.start(controller.signal);
  assert.equal(stream.startOptions, undefined, 'the stream was never started');
  await w.close();
  assert.equal(await w.done, Phase.Stopped);
  assert.ok(stream.closed && sink.closed);
});

/** A feed of versions trained elsewhere, filled by the test. */
function memoryFeed(): { feed: ModelFeed; publish: (snapshot: ModelSnapshot) => void } {
  let newest: ModelSnapshot | undefined;
  return {
    feed: { caughtUp: Promise.resolve(), latest: () => newest },
    publish: (snapshot) => {
      newest = snapshot;
    },
  };
}

void test('with a feed and no version yet, the worker never trains: it holds its batches unresolved, commits nothing and is not ready until the first version arrives', async () => {
  const { feed, publish } = memoryFeed();
  const { worker: w, stream, sink, trained } = worker({ feed });
  await w.start();
  stream.assign([0]);
  await stream.deliver([near(0, false), near(1, true)]);
  assert.equal(w.phase(), Phase.Bootstrapping);
  assert.equal(stream.resolved.size, 0, 'nothing resolved');
  assert.equal(stream.paused, true, 'fetching paused');
  assert.equal(sink.units.length, 0, 'nothing published or committed');
  assert.equal(w.isReady(), false);
  publish(tinySnapshot(3));
  for (let i = 0; i < 50 && w.phase() !== Phase.Online; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(w.modelVersion, 3);
  assert.equal(stream.paused, false, 'fetching resumed');
  await stream.deliver([near(0, false), near(1, true)]);
  assert.equal(sink.labelled, 2);
  assert.deepEqual(trained, [], 'no bootstrap');
  await w.close();
});

void test('with a feed, a newer version is served from the next batch on', async () => {
  const { feed, publish } = memoryFeed();
  publish(tinySnapshot(1));
  const { worker: w, stream } = worker({ feed });
  await w.start();
  await stream.deliver([near(0, false)]);
  assert.equal(w.modelVersion, 1);
  publish(tinySnapshot(2));
  await stream.deliver([near(1, true)]);
  assert.equal(w.modelVersion, 2);
  await w.close();
});

void test('the bootstrap log line names the columns the new model leaves out', async () => {
  const base = tinySnapshot();
  const screened: ModelSnapshot = {
    ...base,
    standardisation: { ...base.standardisation, weight: Float32Array.from([1, 0]) },
  };
  const infos: { message: string; fields: Record<string, unknown> }[] = [];
  const logger = {
    debug: () => undefined,
    info: (message: string, fields: Record<string, unknown> = {}) =>
      infos.push({ message, fields }),
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  const train: BootstrapTrainer = () => Promise.resolve(screened);
  const { worker: w, stream, sink } = worker({ train, logger });
  await w.start();
  await stream.deliver([near(0, false), near(1, true), near(2, false), near(3, true)]);
  for (let i = 0; i < 50 && w.phase() !== Phase.Online; i++)
    await new Promise((r) => setTimeout(r, 10));
  const trained = infos.find((i) => i.message === 'bootstrap trained');
  assert.deepEqual(trained?.fields.leftOutColumns, ['y']);
  assert.equal(sink.labelled, 4);
  await w.close();
});
