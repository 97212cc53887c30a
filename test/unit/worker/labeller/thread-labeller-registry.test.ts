import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Schema } from 'avsc';
import avro from 'avsc';
import { ConfluentAvroCodec } from '../../../../src/codec/confluent-avro-codec.js';
import { InMemorySchemaRegistry } from '../../../../src/codec/in-memory-schema-registry.js';
import { DecStreamError } from '../../../../src/errors.js';
import { initBackend } from '../../../../src/model/backend.js';
import { HttpSchemaRegistry } from '../../../../src/registry/schema-registry-client.js';
import { InProcessLabeller } from '../../../../src/worker/labeller/in-process-labeller.js';
import { ThreadLabeller } from '../../../../src/worker/labeller/thread-labeller.js';
import type { LabelledChunk, SourceRecord } from '../../../../src/worker/ports.js';
import { jsonRecord } from '../fakes.js';
import { labelThreadEntry } from './label-thread-entry.js';
import { tinySnapshot } from '../tiny-snapshot.js';

const pair = {
  type: 'record',
  name: 'Pair',
  namespace: 'dec.test',
  fields: [
    { name: 'x', type: 'double' },
    { name: 'y', type: 'double' },
  ],
};
const pairText = JSON.stringify(pair);
const pairType = avro.Type.forSchema(pair as Schema);

/** A Confluent-style registry over HTTP, backed by an in-memory one; `down` answers 503. */
const registry = new InMemorySchemaRegistry([{ id: 5, schema: pairText, subject: 'in-value' }]);
let down = false;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(value));
    };
    if (down) return send(503, { message: 'down' });
    const url = req.url ?? '';
    const id = /^\/schemas\/ids\/(\d+)$/.exec(url)?.[1];
    const subject = /^\/subjects\/([^/]+)\/versions$/.exec(url)?.[1];
    const done = (work: Promise<unknown>): void => {
      work.then(
        (value) => send(200, value),
        () => send(404, { error_code: 40403, message: 'not found' }),
      );
    };
    if (req.method === 'GET' && id !== undefined) {
      return done(registry.getSchema(Number(id)).then((schema) => ({ schema })));
    }
    if (req.method === 'POST' && subject !== undefined) {
      const { schema } = JSON.parse(body) as { schema: string };
      return done(registry.register(decodeURIComponent(subject), schema).then((i) => ({ id: i })));
    }
    return send(404, { error_code: 40401, message: 'not found' });
  });
});
let url = '';

before(async () => {
  await initBackend('cpu');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function wire(id: number, value: object): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, pairType.toBuffer(value)]);
}

function record(offset: number, value: Buffer): SourceRecord {
  return { ...jsonRecord(offset, {}), value };
}

function plain(chunk: LabelledChunk): unknown {
  const message = (m: LabelledChunk['labelled'][number]): unknown => ({
    key: m.key?.toString('hex'),
    value: m.value?.toString('hex'),
    headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)])),
  });
  return {
    labelled: chunk.labelled.map(message),
    deadLetters: chunk.deadLetters.map(message),
    deadReasons: [...chunk.deadReasons],
    cluster: chunk.assignment === undefined ? undefined : [...chunk.assignment.cluster],
  };
}

const description = () =>
  ({
    format: 'confluent-avro',
    registryUrl: url,
    readerSchema: pairText,
    inputTopic: 'in',
    outputTopic: 'out',
  }) as const;

void test('with a schema registry the thread labeller gives byte-identical output and dead letters', async () => {
  const codec = await ConfluentAvroCodec.create({
    registry: new HttpSchemaRegistry(url),
    readerSchema: pairText,
    inputTopic: 'in',
    outputTopic: 'out',
  });
  const here = new InProcessLabeller(codec);
  await here.serve(tinySnapshot(4));
  const { labeller: there } = await ThreadLabeller.start({
    codec: description(),
    backend: 'cpu',
    entry: labelThreadEntry,
  });
  try {
    await there.serve(tinySnapshot(4));
    const records = [
      record(0, wire(5, { x: 0.1, y: 0.3 })),
      record(1, wire(77, { x: 1, y: 1 })),
      record(2, Buffer.from('no magic byte')),
      record(3, wire(5, { x: 9.5, y: 10 })),
    ];
    const a = await here.label(records);
    const b = await there.label(records);
    assert.equal(b.labelled.length, 2);
    assert.deepEqual([...b.deadReasons.keys()].sort(), ['schema-mismatch', 'undecodable']);
    assert.deepEqual(plain(b), plain(a));
  } finally {
    await there.close();
    await here.close();
  }
});

void test('a registry that cannot be reached rejects the chunk as retriable instead of dead-lettering it', async () => {
  const { labeller } = await ThreadLabeller.start({
    codec: description(),
    backend: 'cpu',
    entry: labelThreadEntry,
  });
  try {
    await labeller.serve(tinySnapshot(1));
    await registry.register('in-value', JSON.stringify({ ...pair, doc: 'v2' }));
    const newer = (await registry.getLatestSchema('in-value')).id;
    down = true;
    await assert.rejects(
      labeller.label([record(0, wire(newer, { x: 1, y: 2 }))]),
      (error: unknown) => error instanceof DecStreamError && error.retriable,
    );
    down = false;
    const chunk = await labeller.label([record(0, wire(newer, { x: 1, y: 2 }))]);
    assert.equal(chunk.labelled.length, 1, 'the same chunk labels once the registry is back');
  } finally {
    down = false;
    await labeller.close();
  }
});
