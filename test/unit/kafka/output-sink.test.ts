import assert from 'node:assert/strict';
import { test } from 'node:test';
import { produceRequests } from '../../../src/kafka/output-sink.js';
import type { OutboundMessage } from '../../../src/worker/ports.js';

const message = (bytes: number): OutboundMessage => ({
  key: Buffer.from('k'),
  value: Buffer.alloc(bytes),
  headers: { 'dec-model-version': '1' },
});

void test('a unit is cut into produce requests below the byte limit, in order, dead letters included', () => {
  const unit = {
    topic: 'in',
    partition: 0,
    nextOffset: '10',
    labelled: Array.from({ length: 5 }, () => message(400)),
    deadLetters: [message(100)],
  };
  const requests = produceRequests(unit, 'out', 'dlq', 1_000);
  const sizes = requests.map((r) => r.map((t) => `${t.topic}:${t.messages.length}`).join(','));
  assert.deepEqual(sizes, ['out:2', 'out:2', 'out:1,dlq:1']);
});

void test('a record larger than the limit goes alone and an empty unit makes no request', () => {
  const big = {
    topic: 'in',
    partition: 0,
    nextOffset: '1',
    labelled: [message(5_000), message(10)],
    deadLetters: [],
  };
  assert.deepEqual(
    produceRequests(big, 'out', 'dlq', 1_000).map((r) => r[0]?.messages.length),
    [1, 1],
  );
  const empty = { topic: 'in', partition: 0, nextOffset: '1', labelled: [], deadLetters: [] };
  assert.deepEqual(produceRequests(empty, 'out', 'dlq'), []);
});
