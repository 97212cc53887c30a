import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedLabel, OtherLabelValue } from '../../../src/metrics/bounded-label.js';

void test('known values always pass and new values pass until the limit, then become other', () => {
  const label = new BoundedLabel(2, ['nan']);
  assert.equal(label.value('a'), 'a');
  assert.equal(label.value('b'), 'b');
  assert.equal(label.value('c'), OtherLabelValue);
  assert.equal(label.value('a'), 'a');
  assert.equal(label.value('nan'), 'nan');
});

void test('values are cleaned to a short, safe alphabet', () => {
  const label = new BoundedLabel(4);
  assert.equal(label.value('Bad Field "x"\n'), 'bad-field-x-');
  assert.equal(label.value('z'.repeat(100)).length, 48);
  assert.equal(label.value(''), OtherLabelValue);
});
