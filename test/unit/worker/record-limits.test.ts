import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoisonReason, PoisonRecordError } from '../../../src/errors.js';
import { RecordBatchOverheadBytes, recordBudgetBytes } from '../../../src/kafka/topic-limits.js';
import {
  DeadLetterHeader,
  deadLetter,
  fitDeadLetter,
  outboundBytes,
} from '../../../src/worker/dead-letter.js';
import type { LabelledChunk, OutboundMessage } from '../../../src/worker/ports.js';
import { applyRecordLimits } from '../../../src/worker/record-limits.js';
import { jsonRecord } from './fakes.js';

const versionHeaders = { 'dec-model-version': '1' };

function labelledOf(value: string): OutboundMessage {
  return { key: null, value: Buffer.from(value), headers: versionHeaders };
}

/** Records 0..3: 1 is poison, 2 labels to a large record. */
function chunkWithLargeRecord(): {
  chunk: LabelledChunk;
  records: ReturnType<typeof jsonRecord>[];
} {
  const records = [0, 1, 2, 3].map((o) => jsonRecord(o, `{"x":${o}}`));
  const poison = deadLetter(
    records[1]!,
    new PoisonRecordError(PoisonReason.NonNumeric, 'x is not a number'),
  );
  const chunk: LabelledChunk = {
    labelled: [labelledOf('small 0'), labelledOf('L'.repeat(5000)), labelledOf('small 3')],
    deadLetters: [poison],
    deadReasons: new Map([[PoisonReason.NonNumeric, 1]]),
    x: { data: new Float32Array(3), rows: 3, cols: 1 },
    assignment: undefined,
    timestampsMs: [0, 0, 0],
    modelVersion: 1,
  };
  return { chunk, records };
}

void test('a chunk whose records all fit comes back as it was', () => {
  const { chunk, records } = chunkWithLargeRecord();
  const limits = { labelledBytes: 10_000, deadLetterBytes: 10_000 };
  assert.equal(applyRecordLimits(chunk, records, limits), chunk);
});

void test('a labelled record above the limit becomes a too-large dead letter of its source record', () => {
  const { chunk, records } = chunkWithLargeRecord();
  const out = applyRecordLimits(chunk, records, { labelledBytes: 1000, deadLetterBytes: 10_000 });
  assert.deepEqual(
    out.labelled.map((m) => m.value?.toString()),
    ['small 0', 'small 3'],
  );
  assert.equal(out.deadLetters.length, 2);
  const tooLarge = out.deadLetters[1]!;
  assert.equal(tooLarge.headers[DeadLetterHeader.Reason], 'too-large');
  assert.equal(tooLarge.headers[DeadLetterHeader.SourceOffset], '2');
  assert.deepEqual(tooLarge.value, records[2]!.value);
  assert.deepEqual(Object.fromEntries(out.deadReasons), { 'non-numeric': 1, 'too-large': 1 });
});

void test('a dead letter above its limit keeps its headers and as much of its value as fits', () => {
  const record = jsonRecord(7, 'v'.repeat(3000));
  const letter = deadLetter(record, new PoisonRecordError(PoisonReason.TooLarge, 'too large'));
  const fitted = fitDeadLetter(letter, 1000);
  assert.ok(outboundBytes(fitted) <= 1000, `${outboundBytes(fitted)} bytes`);
  assert.equal(fitted.headers[DeadLetterHeader.OriginalBytes], '3000');
  assert.equal(fitted.headers[DeadLetterHeader.SourceOffset], '7');
  assert.equal(fitted.headers[DeadLetterHeader.Reason], 'too-large');
  assert.equal(fitted.headers.origin, 'unit');
  assert.ok((fitted.value?.length ?? 0) > 0);
  assert.deepEqual(fitted.value, record.value?.subarray(0, fitted.value?.length));
  assert.equal(fitDeadLetter(letter, 10_000), letter);
});

void test('a dead letter whose copied headers alone exceed the limit keeps only its own headers', () => {
  const record = { ...jsonRecord(9, 'abc'), headers: { big: 'h'.repeat(2000) } };
  const letter = deadLetter(record, new PoisonRecordError(PoisonReason.Undecodable, 'bad'));
  const fitted = fitDeadLetter(letter, 600);
  assert.ok(outboundBytes(fitted) <= 600);
  assert.equal(fitted.headers.big, undefined);
  assert.equal(fitted.key, null);
  assert.equal(fitted.headers[DeadLetterHeader.SourceOffset], '9');
  assert.equal(fitted.headers[DeadLetterHeader.OriginalBytes], '3');
});

void test('dead letters the labeller made are cut to the dead-letter limit too', () => {
  const { chunk, records } = chunkWithLargeRecord();
  const out = applyRecordLimits(chunk, records, { labelledBytes: 10_000, deadLetterBytes: 400 });
  assert.equal(out.labelled, chunk.labelled);
  assert.ok(out.deadLetters.every((m) => outboundBytes(m) <= 400));
});

void test('a record within the budget fits in one batch under max.message.bytes even if compression grows it', () => {
  for (const limit of [2048, 1_048_588]) {
    const budget = recordBudgetBytes(limit);
    // Worst case: snappy on incompressible bytes grows n to n + n/6 + 32.
    const worst = RecordBatchOverheadBytes + budget + Math.ceil(budget / 6) + 32;
    assert.ok(worst <= limit, `${worst} <= ${limit}`);
    assert.ok(budget > limit * 0.8);
  }
});
