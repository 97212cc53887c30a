import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaConfig as KafkaJsConfig, LogEntry, SASLOptions } from 'kafkajs';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import { KafkaAccessError, KafkaAccessFailure } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import { registerCompressionCodecs } from './compression.js';

// Node cannot see kafkajs's error classes by name in its CommonJS entry; the default import holds them.
const { KafkaJSSASLAuthenticationError } = kafkajs;

/**
 * kafkajs log levels → ours. kafkajs logs every failed request at ERROR even when it retries it
 * (coordinator loading, leader moved): that is a warning for us; the worker logs real failures.
 */
function levelOf(level: logLevel): 'debug' | 'warn' {
  return level === logLevel.ERROR || level === logLevel.WARN ? 'warn' : 'debug';
}

/** Routes kafkajs's own log lines into the structured logger. */
export function kafkaLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  return () =>
    ({ namespace, level, log }) => {
      const fields: Record<string, unknown> = { ...log };
      delete fields.message;
      delete fields.timestamp;
      delete fields.logger;
      // A socket error's stack points into node:tls or node:net, never at a cause one can fix.
      delete fields.stack;
      logger[levelOf(level)](`kafka: ${log.message}`, { namespace, ...fields });
    };
}

function sasl(config: KafkaConfig): SASLOptions | undefined {
  if (config.sasl === undefined) return undefined;
  const { mechanism, username, password } = config.sasl;
  return { mechanism, username, password };
}

/** The TLS options of every connection to a broker; false without TLS. */
export function tlsOptions(config: KafkaConfig): false | ConnectionOptions {
  const { ssl } = config;
  if (!ssl.enabled) return false;
  const options: ConnectionOptions = { rejectUnauthorized: ssl.rejectUnauthorized };
  if (ssl.caFile !== undefined) options.ca = [readFileSync(ssl.caFile, 'utf8')];
  if (ssl.certFile !== undefined) options.cert = readFileSync(ssl.certFile, 'utf8');
  if (ssl.keyFile !== undefined) options.key = readFileSync(ssl.keyFile, 'utf8');
  return options;
}

/**
 * A kafkajs client from the resolved configuration: brokers, client id, SASL and TLS. Every
 * thread that talks to Kafka gets its client here, so this is where this thread's kafkajs learns
 * the snappy, lz4 and zstd codecs.
 */
export function createKafka(config: KafkaConfig, logger: Logger): Kafka {
  registerCompressionCodecs();
  const options: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    ssl: tlsOptions(config),
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  };
  const mechanism = sasl(config);
  if (mechanism !== undefined) options.sasl = mechanism;
  return new Kafka(options);
}

/** `error` or one of its causes, if it is a KafkaJSSASLAuthenticationError. */
function saslRejection(error: unknown): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof KafkaJSSASLAuthenticationError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * A KafkaAccessError when `error` says the brokers rejected the SASL credentials (kafkajs gives up
 * at once on those), else undefined. Its message names the user and the settings to check, never
 * the password.
 */
export function kafkaAccessError(
  error: unknown,
  config: KafkaConfig,
): KafkaAccessError | undefined {
  const rejection = saslRejection(error);
  if (rejection === undefined || config.sasl === undefined) return undefined;
  const { mechanism, username } = config.sasl;
  return new KafkaAccessError(
    KafkaAccessFailure.SaslRejected,
    `cannot connect to Kafka at ${config.brokers.join(',')}: ${rejection.message} ` +
      `(user "${username}", ${mechanism}); ` +
      'check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    { cause: error },
  );
}
