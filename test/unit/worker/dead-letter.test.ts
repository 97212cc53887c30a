import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoisonReason, PoisonRecordError } from '../../../src/errors.js';
import { deadLetter, poisonReasonOf } from '../../../src/worker/dead-letter.js';
import { jsonRecord } from './fakes.js';

void test('a dead letter keeps key, bytes and headers and adds reason, error and source position', () => {
  const record = { ...jsonRecord(41, 'raw bytes', 3), topic: 'orders' };
  const letter = deadLetter(
    record,
    new PoisonRecordError(PoisonReason.NonFinite, 'field "f1" is not finite', 'f1'),
  );
  assert.deepEqual(letter.key, record.key);
  assert.deepEqual(letter.value, record.value);
  assert.deepEqual(letter.headers, {
    origin: 'unit',
    'dec-dlq-reason': 'non-finite',
    'dec-dlq-error': 'field "f1" is not finite',
    'dec-source-topic': 'orders',
    'dec-source-partition': '3',
    'dec-source-offset': '41',
  });
});

void test('an unexpected failure counts as undecodable and long messages are cut', () => {
  assert.equal(poisonReasonOf(new TypeError('boom')), 'undecodable');
  const letter = deadLetter(jsonRecord(0, 'x'), new Error('e'.repeat(2_000)));
  assert.ok(String(letter.headers['dec-dlq-error']).length <= 501);
});
