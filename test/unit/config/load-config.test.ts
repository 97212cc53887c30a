import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const minimal = {
  DEC_INPUT_TOPIC: 'points',
  DEC_OUTPUT_TOPIC: 'points-labelled',
  DEC_FEATURES: 'f0,f1',
  DEC_CLUSTERS: '3',
};

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'dec-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function writeFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

void describe('loadConfig', () => {
  void test('group timing defaults to 15 s session, 3 s heartbeat, 60 s rebalance', () => {
    const { stream } = loadConfig(minimal);
    assert.deepEqual(
      [stream.sessionTimeoutMs, stream.heartbeatIntervalMs, stream.rebalanceTimeoutMs],
      [15000, 3000, 60000],
    );
  });

  void test('group timing accepts a heartbeat just below a third of the session', () => {
    const env = { DEC_SESSION_TIMEOUT_MS: '6000', DEC_HEARTBEAT_INTERVAL_MS: '1999' };
    const config = loadConfig({ ...minimal, ...env, DEC_REBALANCE_TIMEOUT_MS: '6000' });
    assert.equal(config.stream.heartbeatIntervalMs, 1999);
  });

  void test('bad group timing is reported field by field in one error', () => {
    const error = configError(() =>
      loadConfig({
        ...minimal,
        DEC_SESSION_TIMEOUT_MS: '9000',
        DEC_HEARTBEAT_INTERVAL_MS: '3000',
        DEC_REBALANCE_TIMEOUT_MS: '8999',
        DEC_CLUSTERS: 'x',
      }),
    );
    assert.match(
      error.message,
      /DEC_HEARTBEAT_INTERVAL_MS.*below a third of DEC_SESSION_TIMEOUT_MS/,
    );
    assert.match(error.message, /DEC_REBALANCE_TIMEOUT_MS.*>= DEC_SESSION_TIMEOUT_MS/);
    assert.match(error.message, /DEC_CLUSTERS/);
  });

  void test('a session timeout outside the broker bounds 6000..1800000 is refused', () => {
    for (const session of ['5999', '1800001']) {
      const env = {
        ...minimal,
        DEC_SESSION_TIMEOUT_MS: session,
        DEC_REBALANCE_TIMEOUT_MS: '1800001',
      };
      const error = configError(() => loadConfig(env));
      assert.match(error.message, /DEC_SESSION_TIMEOUT_MS.*6000\.\.1800000/);
    }
  });

  void test('DEC_OUTPUT_COMPRESSION takes each Kafka codec and nothing else', () => {
    assert.equal(loadConfig(minimal).stream.outputCompression, 'lz4');
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const config = loadConfig({ ...minimal, DEC_OUTPUT_COMPRESSION: codec });
      assert.equal(config.stream.outputCompression, codec);
    }
    const error = configError(() => loadConfig({ ...minimal, DEC_OUTPUT_COMPRESSION: 'brotli' }));
    assert.match(error.message, /DEC_OUTPUT_COMPRESSION/);
  });

  void test('DEC_RETRAIN_START takes fresh (the default), serving or hybrid and nothing else', () => {
    assert.equal(loadConfig(minimal).refine.retrainStart, 'fresh');
    for (const start of ['serving', 'hybrid'] as const) {
      assert.equal(loadConfig({ ...minimal, DEC_RETRAIN_START: start }).refine.retrainStart, start);
    }
    const error = configError(() => loadConfig({ ...minimal, DEC_RETRAIN_START: 'warm' }));
    assert.match(error.message, /DEC_RETRAIN_START/);
  });

  void test('fills every unset setting with its documented default', () => {
    const config = loadConfig(minimal);
    assert.deepEqual(config.kafka, {
      brokers: ['127.0.0.1:9092'],
      clientId: 'dec-stream',
      sasl: undefined,
      ssl: {
        enabled: false,
        caFile: undefined,
        certFile: undefined,
        keyFile: undefined,
        rejectUnauthorized: true,
      },
    });
    assert.equal(config.stream.dlqTopic, 'points.dlq');
    assert.equal(config.stream.groupId, 'dec-stream');
    assert.deepEqual(config.stream.features, ['f0', 'f1']);
    assert.equal(config.stream.format, 'json');
    assert.equal(config.stream.delivery, 'at-least-once');
    assert.equal(config.stream.batchMaxRecords, 1000);
    assert.deepEqual(config.bootstrap, { records: 5000, minRecords: 500, maxWaitMs: 600000 });
    // Left to the trainer, which picks it by the initialisation.
    assert.equal(config.model.method, undefined);
    assert.equal(config.model.initialisation, 'manifold');
    assert.equal(config.model.guard, true);
    assert.equal(config.model.hiddenSizes, undefined);
    assert.equal(config.model.embeddingSize, 10);
    assert.equal(config.model.batchSize, 256);
    assert.equal(config.model.pretrainEpochs, undefined);
    assert.equal(config.model.seed, 42);
    assert.equal(config.model.backend, 'auto');
    assert.equal(config.model.dir, './models');
    assert.equal(config.model.snapshotKeep, 5);
    assert.equal(config.model.scaling, 'auto');
    assert.equal(config.model.augmentImage, undefined);
    assert.equal(config.refine.everyRecords, 5000);
    assert.equal(config.refine.learningRate, 1);
    assert.equal(config.refine.updateEncoder, false);
    assert.equal(config.refine.minClusterShare, 0.005);
    assert.equal(config.refine.rebootstrapPsiThreshold, 0);
    assert.equal(config.metricsPort, 9464);
    assert.equal(config.shutdownGraceMs, 30000);
    assert.equal(config.heapHeadroomMiB, 32);
    assert.equal(config.logLevel, 'info');
  });

  void test('DEC_HEAP_HEADROOM_MIB takes 0 (collections left to V8) and refuses what is not a whole number of MiB', () => {
    assert.equal(loadConfig({ ...minimal, DEC_HEAP_HEADROOM_MIB: '0' }).heapHeadroomMiB, 0);
    assert.equal(loadConfig({ ...minimal, DEC_HEAP_HEADROOM_MIB: '128' }).heapHeadroomMiB, 128);
    for (const bad of ['-1', '1.5', 'lots']) {
      assert.throws(
        () => loadConfig({ ...minimal, DEC_HEAP_HEADROOM_MIB: bad }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.fields.some((f) => f.path === 'DEC_HEAP_HEADROOM_MIB'),
        bad,
      );
    }
  });

  void test('parses lists, numbers and booleans from their text', () => {
    const config = loadConfig({
      ...minimal,
      KAFKA_BROKERS: 'a:9092, b:9093',
      KAFKA_SSL: 'TRUE',
      DEC_FEATURES: 'pixels',
      DEC_HIDDEN: '500, 500,2000',
      DEC_REFINE_LEARNING_RATE: '1e-4',
      DEC_REFINE_UPDATE_ENCODER: 'yes',
      DEC_REFINE_EVERY_RECORDS: '0',
    });
    assert.deepEqual(config.kafka.brokers, ['a:9092', 'b:9093']);
    assert.equal(config.kafka.ssl.enabled, true);
    assert.deepEqual(config.stream.features, ['pixels']);
    assert.deepEqual(config.model.hiddenSizes, [500, 500, 2000]);
    assert.equal(config.refine.learningRate, 0.0001);
    assert.equal(config.refine.updateEncoder, true);
    assert.equal(config.refine.everyRecords, 0);
  });

  void test('reads DEC_FEATURES with the feature-spec parser, refusing duplicates', () => {
    const config = loadConfig({ ...minimal, DEC_FEATURES: 'sepal-length, point.x' });
    assert.deepEqual(config.stream.features, ['sepal-length', 'point.x']);
    const error = configError(() => loadConfig({ ...minimal, DEC_FEATURES: 'f0,f0' }));
    assert.deepEqual(
      error.fields.map((f) => f.path),
      ['DEC_FEATURES'],
    );
  });

  void test('treats blank variables as unset', () => {
    const config = loadConfig({ ...minimal, DEC_HIDDEN: '', DEC_DLQ_TOPIC: '  ', DEC_SEED: '' });
    assert.equal(config.model.hiddenSizes, undefined);
    assert.equal(config.stream.dlqTopic, 'points.dlq');
    assert.equal(config.model.seed, 42);
  });

  void test('names every bad variable in one ConfigError', () => {
    const error = configError(() =>
      loadConfig({
        DEC_OUTPUT_TOPIC: 'out put',
        DEC_FEATURES: 'f0,,f1',
        DEC_CLUSTERS: '1',
        DEC_DELIVERY: 'at-most-once',
        KAFKA_SSL: 'maybe',
        DEC_REFINE_LEARNING_RATE: '0',
        DEC_METRICS_PORT: '70000',
        DEC_HIDDEN: '500,abc',
      }),
    );
    assert.deepEqual(
      error.fields.map((f) => f.path),
      [
        'KAFKA_SSL',
        'DEC_INPUT_TOPIC',
        'DEC_OUTPUT_TOPIC',
        'DEC_FEATURES',
        'DEC_DELIVERY',
        'DEC_CLUSTERS',
        'DEC_HIDDEN',
        'DEC_REFINE_LEARNING_RATE',
        'DEC_METRICS_PORT',
      ],
    );
    assert.match(error.message, /DEC_CLUSTERS: must be an integer >= 2/);
    assert.match(error.message, /DEC_DELIVERY: must be one of at-least-once, exactly-once/);
    assert.match(error.message, /DEC_INPUT_TOPIC: is required/);
    assert.match(error.message, /KAFKA_SSL: must be true or false/);
    assert.match(error.message, /DEC_METRICS_PORT: must be an integer from 0 to 65535/);
    assert.match(error.message, /DEC_REFINE_LEARNING_RATE: must be a number > 0/);
  });

  void test('reports rules between settings together with bad single values', () => {
    const error = configError(() =>
      loadConfig({
        ...minimal,
        DEC_CLUSTERS: '10',
        DEC_BOOTSTRAP_MIN_RECORDS: '5',
        DEC_FORMAT: 'avro',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'dec',
        DEC_SEED: '-1',
      }),
    );
    assert.deepEqual(error.fields.map((f) => f.path).sort(), [
      'DEC_AVRO_SCHEMA',
      'DEC_BOOTSTRAP_MIN_RECORDS',
      'DEC_SEED',
      'KAFKA_SASL_PASSWORD',
    ]);
    assert.match(
      error.message,
      /KAFKA_SASL_PASSWORD: is required when KAFKA_SASL_MECHANISM is scram-sha-512/,
    );
    assert.match(error.message, /DEC_BOOTSTRAP_MIN_RECORDS: must be >= DEC_CLUSTERS \(10\)/);
  });

  void test('derives the bootstrap minimum from the bootstrap size and the cluster count', () => {
    assert.equal(
      loadConfig({ ...minimal, DEC_BOOTSTRAP_RECORDS: '200' }).bootstrap.minRecords,
      200,
    );
    assert.equal(
      loadConfig({ ...minimal, DEC_CLUSTERS: '800', DEC_REFINE_WINDOW: '800' }).bootstrap
        .minRecords,
      800,
    );
    const error = configError(() =>
      loadConfig({ ...minimal, DEC_BOOTSTRAP_RECORDS: '100', DEC_BOOTSTRAP_MIN_RECORDS: '200' }),
    );
    assert.deepEqual(error.fields, [
      { path: 'DEC_BOOTSTRAP_MIN_RECORDS', message: 'must be <= DEC_BOOTSTRAP_RECORDS (100)' },
    ]);
  });

  void test('accepts avro with a registry and no schema file, and rejects a registry for json', () => {
    const config = loadConfig({
      ...minimal,
      DEC_FORMAT: 'avro',
      DEC_SCHEMA_REGISTRY_URL: 'http://registry:8081',
    });
    assert.equal(config.stream.schemaRegistryUrl, 'http://registry:8081');
    const error = configError(() =>
      loadConfig({ ...minimal, DEC_SCHEMA_REGISTRY_URL: 'http://registry:8081' }),
    );
    assert.equal(error.fields[0]?.path, 'DEC_SCHEMA_REGISTRY_URL');
  });

  void test('builds the SASL settings when a mechanism is set', () => {
    const config = loadConfig({
      ...minimal,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'dec',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    assert.deepEqual(config.kafka.sasl, {
      mechanism: 'plain',
      username: 'dec',
      password: 's3cret',
    });
  });

  void test('returns a deeply frozen configuration', () => {
    const config = loadConfig({ ...minimal, DEC_HIDDEN: '8,4' });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.kafka.ssl));
    assert.ok(Object.isFrozen(config.kafka.brokers));
    assert.ok(Object.isFrozen(config.model.hiddenSizes));
    assert.throws(() => {
      (config.stream.features as string[]).push('f2');
    }, TypeError);
  });

  void test('reads the config file and lets the environment override it', () => {
    const file = writeFile(
      'merge.json',
      JSON.stringify({
        DEC_INPUT_TOPIC: 'from-file',
        DEC_OUTPUT_TOPIC: 'out',
        DEC_FEATURES: ['f0', 'f1', 'f2'],
        DEC_CLUSTERS: 4,
        DEC_REFINE_UPDATE_ENCODER: true,
        DEC_SEED: 7,
        DEC_HIDDEN: null,
      }),
    );
    const config = loadConfig({ DEC_CONFIG_FILE: file, DEC_CLUSTERS: '5', DEC_SEED: '' });
    assert.equal(config.stream.inputTopic, 'from-file');
    assert.deepEqual(config.stream.features, ['f0', 'f1', 'f2']);
    assert.equal(config.model.clusters, 5);
    assert.equal(config.model.seed, 7);
    assert.equal(config.refine.updateEncoder, true);
  });

  void test('takes the file from the options before DEC_CONFIG_FILE', () => {
    const file = writeFile('options.json', JSON.stringify({ ...minimal, DEC_CLUSTERS: 6 }));
    const config = loadConfig({ DEC_CONFIG_FILE: join(dir, 'absent.json') }, { file });
    assert.equal(config.model.clusters, 6);
  });

  void test('reports unknown keys and bad values in the file with the other errors', () => {
    const file = writeFile(
      'bad.json',
      JSON.stringify({ ...minimal, DEC_CLUSTER: 3, DEC_FEATURES: { a: 1 }, DEC_DELIVERY: 'x' }),
    );
    const error = configError(() => loadConfig({ DEC_CONFIG_FILE: file, DEC_SEED: 'x' }));
    assert.deepEqual(error.fields.map((f) => f.path).sort(), [
      'DEC_CLUSTER',
      'DEC_DELIVERY',
      'DEC_FEATURES',
      'DEC_SEED',
    ]);
  });

  void test('reports a config file that is missing or not a JSON object', () => {
    const missing = configError(() => loadConfig(minimal, { file: join(dir, 'nope.json') }));
    assert.deepEqual(
      missing.fields.map((f) => f.path),
      ['DEC_CONFIG_FILE'],
    );
    assert.match(missing.message, /cannot be read/);
    const notJson = configError(() => loadConfig(minimal, { file: writeFile('x.json', '{') }));
    assert.match(notJson.message, /DEC_CONFIG_FILE: .* is not valid JSON/);
    const array = configError(() => loadConfig(minimal, { file: writeFile('a.json', '[]') }));
    assert.match(array.message, /must hold one JSON object/);
  });

  void test('reads an image size for augmentation and refuses it with per-feature scaling', () => {
    const config = loadConfig({ ...minimal, DEC_FEATURES: 'pixels', DEC_AUGMENT_IMAGE: '28x28' });
    assert.deepEqual(config.model.augmentImage, { width: 28, height: 28 });
    const error = configError(() =>
      loadConfig({ ...minimal, DEC_AUGMENT_IMAGE: '28 x 28', DEC_SCALING: 'per-feature' }),
    );
    assert.match(error.message, /DEC_AUGMENT_IMAGE: needs DEC_SCALING global, none or auto/);
    const malformed = configError(() =>
      loadConfig({ ...minimal, DEC_AUGMENT_IMAGE: '28', DEC_SCALING: 'lots' }),
    );
    assert.match(malformed.message, /DEC_AUGMENT_IMAGE: must be an image size such as 28x28/);
    assert.match(malformed.message, /DEC_SCALING: must be one of auto, per-feature, global, none/);
  });
});
