import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { DefaultFetchBytesPerPartition } from '../../../src/kafka/kafka-record-stream.js';

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

void test('DEC_PUBLISH_THREAD defaults to auto, accepts on and off, and rejects anything else', () => {
  assert.equal(loadConfig(base).stream.publishThread, 'auto');
  assert.equal(loadConfig({ ...base, DEC_PUBLISH_THREAD: 'off' }).stream.publishThread, 'off');
  assert.equal(loadConfig({ ...base, DEC_PUBLISH_THREAD: 'on' }).stream.publishThread, 'on');
  assert.throws(
    () => loadConfig({ ...base, DEC_PUBLISH_THREAD: 'yes' }),
    (error: unknown) =>
      error instanceof ConfigError && error.fields.some((f) => f.path === 'DEC_PUBLISH_THREAD'),
  );
});

void test('DEC_FETCH_MAX_BYTES_PER_PARTITION defaults to 2 MiB, the record stream default, and refuses less than 1 KiB', () => {
  assert.equal(loadConfig(base).stream.fetchMaxBytesPerPartition, 2 * 1024 * 1024);
  // The setting's default and the record stream's own are one figure.
  assert.equal(loadConfig(base).stream.fetchMaxBytesPerPartition, DefaultFetchBytesPerPartition);
  assert.equal(
    loadConfig({ ...base, DEC_FETCH_MAX_BYTES_PER_PARTITION: '65536' }).stream
      .fetchMaxBytesPerPartition,
    65536,
  );
  assert.throws(
    () => loadConfig({ ...base, DEC_FETCH_MAX_BYTES_PER_PARTITION: '100' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.fields.some((f) => f.path === 'DEC_FETCH_MAX_BYTES_PER_PARTITION'),
  );
});
