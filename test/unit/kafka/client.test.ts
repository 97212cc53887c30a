import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { loadConfig } from '../../../src/config/load-config.js';
import { KafkaAccessError, KafkaAccessFailure } from '../../../src/errors.js';
import { kafkaAccessError, kafkaLogCreator } from '../../../src/kafka/client.js';
import type { Logger, LogFields } from '../../../src/runtime/logger.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = kafkajs;
// kafkajs's type declarations leave out the message its errors take.
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (
  message: string,
) => Error;

const password = 'pa55-never-shown';
const securedEnv = {
  KAFKA_BROKERS: 'kafka-0:9093,kafka-1:9093',
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'labeller',
  KAFKA_SASL_PASSWORD: password,
  KAFKA_SSL: 'true',
  DEC_INPUT_TOPIC: 'in',
  DEC_OUTPUT_TOPIC: 'out',
  DEC_FEATURES: 'f0,f1',
  DEC_CLUSTERS: '2',
};
const rejected = (): Error =>
  new KafkaJSSASLAuthenticationError(
    'SASL SCRAM SHA512 authentication failed: invalid credentials',
  );

test('kafkaAccessError() turns a SASL rejection into one KAFKA_SASL_FAILED error that names the user and the settings', () => {
  const error = kafkaAccessError(rejected(), loadConfig(securedEnv).kafka);
  assert.ok(error instanceof KafkaAccessError);
  assert.equal(error.code, KafkaAccessFailure.SaslRejected);
  assert.equal(error.retriable, false);
  assert.match(error.message, /^cannot connect to Kafka at kafka-0:9093,kafka-1:9093: SASL SCRAM/);
  assert.match(error.message, /user "labeller", scram-sha-512/);
  assert.match(error.message, /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD$/);
  assert.doesNotMatch(error.message, /\n/);
  assert.ok(!error.message.includes(password), 'the password stays out of the message');
});

test('kafkaAccessError() finds a SASL rejection among the causes of a wrapping error', () => {
  const wrapped = new Error('start-up failed', {
    cause: new KafkaJSNumberOfRetriesExceeded(new Error('retried'), {
      retryCount: 1,
      retryTime: 0,
    }),
  });
  (wrapped.cause as { cause?: unknown }).cause = rejected();
  const error = kafkaAccessError(wrapped, loadConfig(securedEnv).kafka);
  assert.equal(error?.code, KafkaAccessFailure.SaslRejected);
});

test('kafkaAccessError() leaves passing faults and clients without SASL alone', () => {
  const config = loadConfig(securedEnv).kafka;
  assert.equal(
    kafkaAccessError(new KafkaJSConnectionError('Connection timeout'), config),
    undefined,
  );
  assert.equal(kafkaAccessError(new Error('boom'), config), undefined);
  const plain = loadConfig({ ...securedEnv, KAFKA_SASL_MECHANISM: 'none' }).kafka;
  assert.equal(kafkaAccessError(rejected(), plain), undefined);
});

test('kafkaLogCreator() drops the stack that kafkajs attaches to socket errors', () => {
  const lines: { msg: string; fields: LogFields | undefined }[] = [];
  const record = (msg: string, fields?: LogFields): void => {
    lines.push({ msg, fields });
  };
  const logger: Logger = {
    debug: record,
    info: record,
    warn: record,
    error: record,
    child: () => logger,
  };
  const log = kafkaLogCreator(logger)();
  log({
    namespace: 'Connection',
    level: kafkajs.logLevel.ERROR,
    label: 'ERROR',
    log: {
      timestamp: 'now',
      message: 'Connection error: self-signed certificate in certificate chain',
      broker: 'kafka-0:9093',
      stack: 'Error: self-signed certificate\n    at TLSSocket.onConnectSecure (node:_tls_wrap)',
    },
  });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0]?.msg,
    'kafka: Connection error: self-signed certificate in certificate chain',
  );
  assert.deepEqual(lines[0]?.fields, { namespace: 'Connection', broker: 'kafka-0:9093' });
});
