/**
 * One base class for every error dec-stream raises on purpose. Policies are chosen by `code` or by
 * subclass, never by message text.
 */
export class DecStreamError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options?: { retriable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options?.retriable ?? false;
  }
}

/** A bad setting: start-up stops with one message that names every bad field. */
export class ConfigError extends DecStreamError {
  readonly fields: readonly { path: string; message: string }[];

  constructor(fields: readonly { path: string; message: string }[]) {
    super(
      'CONFIG_INVALID',
      `invalid configuration: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
    );
    this.fields = fields;
  }
}

/**
 * Start-up stopped on request (SIGTERM or SIGINT before the worker was running): what it had opened
 * is closed again. Not a failure: `dec-stream run` exits 0.
 */
export class StartAbortedError extends DecStreamError {
  constructor() {
    super('START_ABORTED', 'start-up stopped on request');
  }
}

/** Reasons a record cannot be labelled; each becomes the dead-letter `dec-dlq-reason` header. */
export const PoisonReason = {
  Undecodable: 'undecodable',
  SchemaMismatch: 'schema-mismatch',
  MissingField: 'missing-field',
  NonNumeric: 'non-numeric',
  NonFinite: 'non-finite',
  WrongLength: 'wrong-length',
  /** Its labelled record is larger than the output topic accepts. */
  TooLarge: 'too-large',
} as const;
export type PoisonReason = (typeof PoisonReason)[keyof typeof PoisonReason];
/** Every poison reason: the known values of the dead-letter `reason` label. */
export const PoisonReasons: readonly PoisonReason[] = Object.values(PoisonReason);

/** A record that can never be labelled: dead-letter it, count it, commit, go on. */
export class PoisonRecordError extends DecStreamError {
  readonly reason: PoisonReason;
  readonly field: string | undefined;

  constructor(reason: PoisonReason, message: string, field?: string) {
    super(`POISON_${reason.toUpperCase().replace(/-/g, '_')}`, message);
    this.reason = reason;
    this.field = field;
  }
}

/** A snapshot that fails its checksum, its shapes or its format version. */
export class SnapshotError extends DecStreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SNAPSHOT_INVALID', message, options);
  }
}

/** Training produced NaN or diverged: keep serving the previous model version. */
export class TrainingDivergedError extends DecStreamError {
  constructor(message: string) {
    super('TRAINING_DIVERGED', message);
  }
}

/** Bad input to an offline command (CLI): one line on stderr, non-zero exit. */
export class UsageError extends DecStreamError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Why Kafka turned the worker away; the `code` of a KafkaAccessError. */
export const KafkaAccessFailure = {
  /** The broker's certificate does not verify against the trusted certificate authorities. */
  UntrustedCertificate: 'KAFKA_TLS_UNTRUSTED',
  /** The broker rejected the SASL user, password or mechanism. */
  SaslRejected: 'KAFKA_SASL_FAILED',
} as const;
export type KafkaAccessFailure = (typeof KafkaAccessFailure)[keyof typeof KafkaAccessFailure];

/**
 * Kafka turned the worker away for its settings, not for a passing fault: retrying cannot help,
 * so start-up stops with one line that names the settings to check.
 */
export class KafkaAccessError extends DecStreamError {
  constructor(code: KafkaAccessFailure, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
