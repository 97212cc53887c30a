import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const minimal = {
  DEC_INPUT_TOPIC: 'points',
  DEC_OUTPUT_TOPIC: 'points-labelled',
  DEC_FEATURES: 'f0,f1',
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

void describe('DEC_CLUSTERS=auto', () => {
  void test('auto (any case) chooses k from 2 to 20 by default', () => {
    for (const value of ['auto', 'AUTO', ' Auto ']) {
      const { model } = loadConfig({ ...minimal, DEC_CLUSTERS: value });
      assert.equal(model.clusters, 'auto');
      assert.deepEqual(model.clusterRange, { min: 2, max: 20 });
    }
  });

  void test('DEC_CLUSTERS_MIN and DEC_CLUSTERS_MAX set the range', () => {
    const { model } = loadConfig({
      ...minimal,
      DEC_CLUSTERS: 'auto',
      DEC_CLUSTERS_MIN: '3',
      DEC_CLUSTERS_MAX: '12',
    });
    assert.deepEqual(model.clusterRange, { min: 3, max: 12 });
  });

  void test('a number still gives that k and no range', () => {
    const { model } = loadConfig({ ...minimal, DEC_CLUSTERS: '7' });
    assert.equal(model.clusters, 7);
    assert.equal(model.clusterRange, undefined);
  });

  void test('anything else than an integer >= 2 or auto is named in the error', () => {
    for (const value of ['automatic', '1', '2.5', 'x']) {
      const error = configError({ ...minimal, DEC_CLUSTERS: value });
      assert.match(error.message, /DEC_CLUSTERS: must be an integer >= 2 or auto/, value);
    }
  });

  void test('a bad range names the setting at fault', () => {
    assert.match(
      configError({
        ...minimal,
        DEC_CLUSTERS: 'auto',
        DEC_CLUSTERS_MIN: '8',
        DEC_CLUSTERS_MAX: '4',
      }).message,
      /DEC_CLUSTERS_MAX: must be >= DEC_CLUSTERS_MIN \(8\)/,
    );
    assert.match(
      configError({ ...minimal, DEC_CLUSTERS: 'auto', DEC_CLUSTERS_MIN: '1' }).message,
      /DEC_CLUSTERS_MIN: must be an integer >= 2/,
    );
    assert.match(
      configError({ ...minimal, DEC_CLUSTERS: 'auto', DEC_CLUSTERS_MAX: 'many' }).message,
      /DEC_CLUSTERS_MAX: must be an integer >= 2/,
    );
  });

  void test('the range settings are refused without auto', () => {
    const error = configError({ ...minimal, DEC_CLUSTERS: '5', DEC_CLUSTERS_MAX: '9' });
    assert.match(error.message, /DEC_CLUSTERS_MAX: is only used with DEC_CLUSTERS=auto/);
  });

  void test('the bootstrap window and refinement window must hold the largest k', () => {
    const error = configError({
      ...minimal,
      DEC_CLUSTERS: 'auto',
      DEC_CLUSTERS_MAX: '40',
      DEC_BOOTSTRAP_RECORDS: '30',
      DEC_REFINE_WINDOW: '35',
    });
    assert.match(error.message, /DEC_BOOTSTRAP_RECORDS: must be >= DEC_CLUSTERS \(40\)/);
    assert.match(error.message, /DEC_REFINE_WINDOW: must be >= DEC_CLUSTERS \(40\)/);
  });
});
