import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const base = {
  DEC_INPUT_TOPIC: 'in',
  DEC_OUTPUT_TOPIC: 'out',
  DEC_FEATURES: 'f0,f1',
  DEC_CLUSTERS: '3',
};

void test('DEC_LABEL_THREAD defaults to auto and accepts on and off', () => {
  assert.equal(loadConfig(base).stream.labelThread, 'auto');
  assert.equal(loadConfig({ ...base, DEC_LABEL_THREAD: 'on' }).stream.labelThread, 'on');
  assert.equal(loadConfig({ ...base, DEC_LABEL_THREAD: 'off' }).stream.labelThread, 'off');
});

void test('DEC_LABEL_THREAD rejects any other value, naming the setting', () => {
  assert.throws(
    () => loadConfig({ ...base, DEC_LABEL_THREAD: 'maybe' }),
    (error: unknown) =>
      error instanceof ConfigError && error.fields.some((f) => f.path === 'DEC_LABEL_THREAD'),
  );
});
