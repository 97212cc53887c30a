import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { parseFeatureSpec } from '../../src/feature-list.js';

void describe('parseFeatureSpec', () => {
  void test('splits a comma list into trimmed dot paths', () => {
    assert.deepEqual(parseFeatureSpec('f0, f1,point.x'), ['f0', 'f1', 'point.x']);
    assert.deepEqual(parseFeatureSpec('pixels'), ['pixels']);
  });

  void test('refuses empty lists, empty names, empty path segments and duplicates', () => {
    for (const bad of ['', ' ', 'a,,b', 'a.', 'a..b', '.a', 'a,a']) {
      assert.throws(() => parseFeatureSpec(bad), UsageError, `spec ${JSON.stringify(bad)}`);
    }
  });
});
