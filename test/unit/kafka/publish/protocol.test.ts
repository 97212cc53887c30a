import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { encodedHeadersOf, encodeRecordHeaders } from '../../../../src/kafka/encoded-headers.js';
import { packUnit, unitTransfer, unpackUnit } from '../../../../src/kafka/publish/protocol.js';
import type { PackedUnit } from '../../../../src/kafka/publish/protocol.js';
import type { OutboundMessage, PublishUnit } from '../../../../src/worker/ports.js';

/** Sends `unit` through a real message port, as the worker sends it to the publishing thread. */
async function throughPort(unit: PackedUnit): Promise<PackedUnit> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<PackedUnit>((resolve) => port2.once('message', resolve));
  port1.postMessage(unit, unitTransfer(unit));
  const out = await received;
  port1.close();
  return out;
}

void test('a unit crosses to the publishing thread with its keys, values and headers intact', async () => {
  const shared = { 'dec-model-version': Buffer.from('7') };
  const fetched = Buffer.from('....trace-42....');
  const labelled: OutboundMessage[] = [
    { key: Buffer.from('a'), value: Buffer.from('{"x":1}'), headers: shared },
    { key: null, value: Buffer.from('{"x":2}'), headers: shared },
    {
      key: Buffer.from('c'),
      value: null,
      headers: {
        // A header read from Kafka is a view into a larger buffer.
        trace: fetched.subarray(4, 12),
        note: 'text',
        multi: ['one', Buffer.from('two')],
        'dec-model-version': Buffer.from('7'),
      },
    },
  ];
  const deadLetters: OutboundMessage[] = [
    { key: Buffer.from('p'), value: Buffer.from('not json'), headers: { 'dec-dlq-reason': 'x' } },
  ];
  const unit: PublishUnit = { topic: 'in', partition: 3, nextOffset: '120', labelled, deadLetters };

  const packed = packUnit(unit);
  assert.equal(packed.labelled.headerSets.length, 2, 'records sharing headers share one set');
  const back = unpackUnit(await throughPort(packed));

  assert.equal(back.topic, 'in');
  assert.equal(back.partition, 3);
  assert.equal(back.nextOffset, '120');
  const text = (b: Buffer | string | null): string | null =>
    b === null ? null : Buffer.from(b).toString();
  assert.deepEqual(
    back.labelled.map((m) => [text(m.key), text(m.value)]),
    [
      ['a', '{"x":1}'],
      [null, '{"x":2}'],
      ['c', null],
    ],
  );
  const first = back.labelled[0] as OutboundMessage;
  const third = back.labelled[2] as OutboundMessage;
  assert.ok(Buffer.isBuffer(first.headers['dec-model-version']), 'header values are Buffers again');
  assert.equal(text(first.headers['dec-model-version']), '7');
  assert.equal(first.headers, back.labelled[1]?.headers, 'shared headers stay one object');
  // The producer copies each set's encoding instead of encoding the set for every record.
  assert.deepEqual(encodedHeadersOf(first.headers), encodeRecordHeaders(shared));
  assert.ok(Object.isFrozen(first.headers));
  assert.equal(text(third.headers.trace as Buffer), 'trace-42');
  assert.equal((third.headers.trace as Buffer).buffer.byteLength, 8, 'only the view is copied');
  assert.equal(third.headers.note, 'text');
  assert.deepEqual(
    (third.headers.multi as (Buffer | string)[]).map((v) => text(v as Buffer)),
    ['one', 'two'],
  );
  assert.deepEqual(
    back.deadLetters.map((m) => [text(m.key), text(m.value), m.headers['dec-dlq-reason']]),
    [['p', 'not json', 'x']],
  );
});

void test('an empty unit packs and unpacks to an empty unit', async () => {
  const unit: PublishUnit = {
    topic: 't',
    partition: 0,
    nextOffset: '1',
    labelled: [],
    deadLetters: [],
  };
  const back = unpackUnit(await throughPort(packUnit(unit)));
  assert.deepEqual(back, unit);
});
