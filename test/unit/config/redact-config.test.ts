import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load-config.js';
import { redactConfig, redactUrl } from '../../../src/config/redact-config.js';

const env = {
  DEC_INPUT_TOPIC: 'in',
  DEC_OUTPUT_TOPIC: 'out',
  DEC_FEATURES: 'f0',
  DEC_CLUSTERS: '2',
  DEC_FORMAT: 'avro',
  DEC_SCHEMA_REGISTRY_URL: 'https://reg-user:reg-pass@registry.example:8081/',
  KAFKA_SASL_MECHANISM: 'scram-sha-256',
  KAFKA_SASL_USERNAME: 'dec',
  KAFKA_SASL_PASSWORD: 'kafka-pass',
};

void test('redactConfig masks the SASL password and the registry password for logs', () => {
  const config = loadConfig(env);
  const text = JSON.stringify(redactConfig(config));
  assert.doesNotMatch(text, /kafka-pass/);
  assert.doesNotMatch(text, /reg-pass/);
  assert.match(text, /"username":"dec"/);
  assert.match(text, /reg-user:\[redacted\]@registry\.example/);
  assert.equal(config.kafka.sasl?.password, 'kafka-pass', 'the configuration itself is untouched');
});

void test('redactUrl leaves URLs without a password as they are', () => {
  assert.equal(redactUrl('http://registry:8081'), 'http://registry:8081');
});
