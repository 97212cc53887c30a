import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PoisonReason, PoisonRecordError, UsageError } from '../../../src/errors.js';
import { FeatureExtractor } from '../../../src/model/features.js';

function poisonOf(run: () => void): PoisonRecordError {
  try {
    run();
  } catch (error) {
    assert.ok(
      error instanceof PoisonRecordError,
      `expected PoisonRecordError, got ${String(error)}`,
    );
    return error;
  }
  assert.fail('expected a PoisonRecordError');
}

void describe('FeatureExtractor', () => {
  void test('infer() learns width 1 for scalars and n for vectors, in field order', () => {
    const extractor = FeatureExtractor.infer(['b', 'v', 'a'], { a: 1, b: 2, v: [3, 4, 5] });
    assert.deepEqual(extractor.spec, { fields: ['b', 'v', 'a'], widths: [1, 3, 1] });
    assert.equal(extractor.dims, 5);
  });

  void test('extract() writes scalar fields, nested dot paths and flattened vectors at the offset', () => {
    const extractor = new FeatureExtractor({
      fields: ['x', 'point.y', 'v'],
      widths: [1, 1, 2],
    });
    const out = new Float32Array(6).fill(-1);
    extractor.extract({ x: 1.5, point: { y: -2 }, v: [3, 4], other: 'ignored' }, out, 1);
    assert.deepEqual(Array.from(out), [-1, 1.5, -2, 3, 4, -1]);
  });

  void test('extract() accepts typed arrays as vectors', () => {
    const extractor = new FeatureExtractor({ fields: ['pixels'], widths: [3] });
    const out = new Float32Array(3);
    extractor.extract({ pixels: Float64Array.from([0.25, 0.5, 1]) }, out, 0);
    assert.deepEqual(Array.from(out), [0.25, 0.5, 1]);
  });

  void test('extractMatrix() stacks records row by row', () => {
    const extractor = FeatureExtractor.infer(['a', 'v'], { a: 0, v: [0, 0] });
    const m = extractor.extractMatrix([
      { a: 1, v: [2, 3] },
      { a: 4, v: [5, 6] },
    ]);
    assert.equal(m.rows, 2);
    assert.equal(m.cols, 3);
    assert.deepEqual(Array.from(m.data), [1, 2, 3, 4, 5, 6]);
  });

  const extractor = new FeatureExtractor({ fields: ['a', 'n.b', 'v'], widths: [1, 1, 2] });
  const good = { a: 1, n: { b: 2 }, v: [3, 4] };
  const cases: { name: string; record: unknown; reason: PoisonReason; field: string }[] = [
    {
      name: 'a missing field',
      record: { n: { b: 2 }, v: [3, 4] },
      reason: 'missing-field',
      field: 'a',
    },
    {
      name: 'a missing parent',
      record: { a: 1, v: [3, 4] },
      reason: 'missing-field',
      field: 'n.b',
    },
    { name: 'a null value', record: { ...good, a: null }, reason: 'missing-field', field: 'a' },
    { name: 'a numeric string', record: { ...good, a: '1' }, reason: 'non-numeric', field: 'a' },
    { name: 'a boolean', record: { ...good, n: { b: true } }, reason: 'non-numeric', field: 'n.b' },
    { name: 'an object', record: { ...good, a: { x: 1 } }, reason: 'non-numeric', field: 'a' },
    { name: 'NaN', record: { ...good, a: Number.NaN }, reason: 'non-finite', field: 'a' },
    {
      name: 'Infinity',
      record: { ...good, n: { b: Infinity } },
      reason: 'non-finite',
      field: 'n.b',
    },
    {
      name: 'a number beyond the float32 range',
      record: { ...good, v: [3, -1e39] },
      reason: 'non-finite',
      field: 'v',
    },
    {
      name: 'NaN inside a vector',
      record: { ...good, v: [3, Number.NaN] },
      reason: 'non-finite',
      field: 'v',
    },
    {
      name: 'a string inside a vector',
      record: { ...good, v: [3, 'x'] },
      reason: 'non-numeric',
      field: 'v',
    },
    { name: 'a short vector', record: { ...good, v: [3] }, reason: 'wrong-length', field: 'v' },
    {
      name: 'a long vector',
      record: { ...good, v: [3, 4, 5] },
      reason: 'wrong-length',
      field: 'v',
    },
    {
      name: 'a scalar for a vector',
      record: { ...good, v: 3 },
      reason: 'wrong-length',
      field: 'v',
    },
    {
      name: 'a vector for a scalar',
      record: { ...good, a: [1, 2] },
      reason: 'wrong-length',
      field: 'a',
    },
    { name: 'a record that is not an object', record: 42, reason: 'missing-field', field: 'a' },
  ];
  for (const c of cases) {
    void test(`extract() rejects ${c.name} with reason ${c.reason} naming field ${c.field}`, () => {
      const error = poisonOf(() => extractor.extract(c.record, new Float32Array(4), 0));
      assert.equal(error.reason, c.reason);
      assert.equal(error.field, c.field);
      assert.match(error.message, new RegExp(c.field.replace('.', '\\.')));
    });
  }

  void test('extractMatrix() names the 1-based record number of a poison record', () => {
    const error = poisonOf(() => extractor.extractMatrix([good, good, { ...good, v: [1] }]));
    assert.equal(error.reason, PoisonReason.WrongLength);
    assert.equal(error.field, 'v');
    assert.match(error.message, /^record 3: /);
  });

  void test('infer() rejects a sample that lacks a field or holds a non-number', () => {
    assert.equal(poisonOf(() => FeatureExtractor.infer(['a', 'b'], { a: 1 })).field, 'b');
    assert.equal(poisonOf(() => FeatureExtractor.infer(['a'], { a: 'x' })).reason, 'non-numeric');
    assert.equal(poisonOf(() => FeatureExtractor.infer(['a'], { a: [] })).reason, 'wrong-length');
    assert.equal(
      poisonOf(() => FeatureExtractor.infer(['a'], { a: [1, NaN] })).reason,
      'non-finite',
    );
  });

  void test('the constructor refuses widths that do not match the fields', () => {
    assert.throws(() => new FeatureExtractor({ fields: ['a', 'b'], widths: [1] }), UsageError);
    assert.throws(() => new FeatureExtractor({ fields: ['a'], widths: [0] }), UsageError);
  });
});
