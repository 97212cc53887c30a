import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Schema } from 'avsc';
import avro from 'avsc';
import { AvroCodec } from '../../../../src/codec/avro-codec.js';
import { JsonCodec } from '../../../../src/codec/json-codec.js';
import { initBackend } from '../../../../src/model/backend.js';
import type { ModelSnapshot } from '../../../../src/model/types.js';
import type { CodecDescription } from '../../../../src/worker/labeller/codec-description.js';
import { InProcessLabeller } from '../../../../src/worker/labeller/in-process-labeller.js';
import { ThreadLabeller } from '../../../../src/worker/labeller/thread-labeller.js';
import type { LabelledChunk, RecordCodec, SourceRecord } from '../../../../src/worker/ports.js';
import { jsonRecord } from '../fakes.js';
import { labelThreadEntry, threadOf } from './label-thread-entry.js';
import { tinySnapshot } from '../tiny-snapshot.js';

before(async () => {
  await initBackend('cpu');
});

const open: ThreadLabeller[] = [];
after(async () => {
  await Promise.all(open.map((l) => l.close()));
});

async function threadLabeller(codec: CodecDescription): Promise<ThreadLabeller> {
  const { labeller } = await ThreadLabeller.start({
    codec,
    backend: 'cpu',
    entry: labelThreadEntry,
  });
  open.push(labeller);
  return labeller;
}

/** Version 2 of the tiny model with its centroids swapped: every cluster id flips. */
function swappedSnapshot(): ModelSnapshot {
  const base = tinySnapshot(2);
  return {
    ...base,
    parameters: { ...base.parameters, centroids: Float32Array.from([10, 10, 0, 0]) },
  };
}

/** Everything a labelled chunk carries, as plain comparable data. */
function comparable(chunk: LabelledChunk): unknown {
  const message = (m: LabelledChunk['labelled'][number]): unknown => ({
    key: m.key?.toString('hex') ?? null,
    value: m.value?.toString('hex') ?? null,
    headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)])),
  });
  return {
    labelled: chunk.labelled.map(message),
    deadLetters: chunk.deadLetters.map(message),
    deadReasons: [...chunk.deadReasons],
    x: { data: [...chunk.x.data], rows: chunk.x.rows, cols: chunk.x.cols },
    assignment:
      chunk.assignment === undefined
        ? undefined
        : {
            rows: chunk.assignment.rows,
            clusters: chunk.assignment.clusters,
            cluster: [...chunk.assignment.cluster],
            confidence: [...chunk.assignment.confidence],
            q: [...chunk.assignment.q],
            distance: [...chunk.assignment.distance],
          },
    timestampsMs: chunk.timestampsMs,
    modelVersion: chunk.modelVersion,
  };
}

async function bothLabellers(
  codec: RecordCodec,
  description: CodecDescription,
  records: SourceRecord[],
): Promise<{ here: LabelledChunk; there: LabelledChunk }> {
  const inProcess = new InProcessLabeller(codec);
  await inProcess.serve(tinySnapshot(3));
  const thread = await threadLabeller(description);
  await thread.serve(tinySnapshot(3));
  const here = await inProcess.label(records);
  const there = await thread.label(records);
  await inProcess.close();
  return { here, there };
}

void test('the thread labeller gives byte-identical JSON output and dead letters to the in-process one', async () => {
  const records = [
    jsonRecord(0, { x: 0.2, y: -0.1 }),
    jsonRecord(1, 'not json'),
    jsonRecord(2, { x: 10, y: 9.5, note: 'é ✓' }),
    jsonRecord(3, { x: 'ten', y: 1 }),
    jsonRecord(4, null),
    jsonRecord(5, { y: 1 }),
    { ...jsonRecord(6, { x: 1, y: 2, cluster: 7 }), headers: {} },
    jsonRecord(7, ' { "x": 9, "y": 11 } '),
  ];
  const { here, there } = await bothLabellers(new JsonCodec(), { format: 'json' }, records);
  assert.equal(there.labelled.length, 4);
  assert.equal(there.deadLetters.length, 4);
  assert.deepEqual(comparable(there), comparable(here));
  assert.deepEqual(
    there.labelled.map((m) => (JSON.parse(String(m.value)) as { cluster: number }).cluster),
    [0, 1, 0, 1],
  );
});

void test('the thread labeller gives byte-identical Avro output and dead letters to the in-process one', async () => {
  const schema = JSON.stringify({
    type: 'record',
    name: 'Pair',
    namespace: 'dec.test',
    fields: [
      { name: 'x', type: 'double' },
      { name: 'y', type: 'float' },
      { name: 'name', type: 'string' },
    ],
  });
  const type = avro.Type.forSchema(JSON.parse(schema) as Schema);
  const avroRecord = (offset: number, value: Buffer | null): SourceRecord => ({
    ...jsonRecord(offset, {}),
    value,
  });
  const records = [
    avroRecord(0, type.toBuffer({ x: 0.5, y: 0.25, name: 'a' })),
    avroRecord(1, Buffer.from([0xff, 0xff, 0xff])),
    avroRecord(2, type.toBuffer({ x: 11, y: 9, name: 'b' })),
    avroRecord(3, null),
  ];
  const { here, there } = await bothLabellers(
    new AvroCodec(schema),
    { format: 'avro', schema },
    records,
  );
  assert.equal(there.labelled.length, 2);
  assert.equal(there.deadLetters.length, 2);
  assert.deepEqual(comparable(there), comparable(here));
});

void test('a chunk asked for before a version swap is labelled entirely by the old version', async () => {
  const labeller = await threadLabeller({ format: 'json' });
  await labeller.serve(tinySnapshot(1));
  const records = Array.from({ length: 50 }, (_, i) =>
    jsonRecord(i, i % 2 === 0 ? { x: 0, y: 0.5 } : { x: 10, y: 10.5 }),
  );
  const before = labeller.label(records);
  const swap = labeller.serve(swappedSnapshot());
  assert.equal(labeller.version, 2, 'the new version serves from the next request on');
  const afterSwap = labeller.label(records);
  await swap;
  const [old, next] = await Promise.all([before, afterSwap]);
  const parse = (chunk: LabelledChunk): { cluster: number; model_version: number }[] =>
    chunk.labelled.map(
      (m) => JSON.parse(String(m.value)) as { cluster: number; model_version: number },
    );
  assert.equal(old.modelVersion, 1);
  assert.ok(parse(old).every((v, i) => v.model_version === 1 && v.cluster === i % 2));
  assert.ok(old.labelled.every((m) => String(m.headers['dec-model-version']) === '1'));
  assert.equal(next.modelVersion, 2);
  assert.ok(parse(next).every((v, i) => v.model_version === 2 && v.cluster === 1 - (i % 2)));
  assert.ok(next.labelled.every((m) => String(m.headers['dec-model-version']) === '2'));
});

void test('a labelling thread that dies makes label reject with a clear error instead of hanging', async () => {
  const labeller = await threadLabeller({ format: 'json' });
  await labeller.serve(tinySnapshot(1));
  const thread = threadOf(labeller);
  const pending = labeller.label([jsonRecord(0, { x: 1, y: 1 })]);
  await thread.terminate();
  await assert.rejects(pending, /labelling thread exited unexpectedly/);
  await assert.rejects(
    labeller.label([jsonRecord(1, { x: 1, y: 1 })]),
    (error: Error & { code?: string }) => error.code === 'LABEL_THREAD_FAILED',
  );
});

void test('close terminates the thread and later requests reject', async () => {
  const labeller = await threadLabeller({ format: 'json' });
  await labeller.serve(tinySnapshot(1));
  const thread = threadOf(labeller);
  const exited = new Promise<number>((resolve) => thread.once('exit', resolve));
  await labeller.close();
  await exited;
  assert.equal(thread.threadId, -1, 'the thread is gone');
  await assert.rejects(labeller.label([jsonRecord(0, { x: 1, y: 1 })]), /labeller is closed/);
  await labeller.close();
});

void test('a thread that cannot build its codec fails to start with the reason', async () => {
  await assert.rejects(
    ThreadLabeller.start({
      codec: { format: 'avro', schema: '{"type": "nope"}' },
      backend: 'cpu',
      entry: labelThreadEntry,
    }),
    /labelling thread could not start/,
  );
});
