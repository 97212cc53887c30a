/**
 * Drives fuzzed payloads through the code every input record takes before it is labelled, and
 * checks what came out. For the worker's formats that is the labeller's own sequence (prepare the
 * codec, `ServingModel.labelValues`, `labelledChunk`, then `applyRecordLimits` as StreamWorker
 * does); for the CLI it is `readRecords` on CSV or JSON lines, then `ModelVersion` (as `dec-stream assign` does).
 *
 * The property: nothing throws out of that path; every payload is either labelled, with finite
 * features of the model's width and an output that carries the same features and a valid label,
 * or dead-lettered with a PoisonRecordError whose reason is one of PoisonReasons, a non-empty
 * message and the original bytes. An input line the CLI refuses must be refused with a UsageError.
 */
import { Readable } from 'node:stream';
import type { Type } from 'avsc';
import type { AvroCodec } from '../../src/codec/avro-codec.js';
import type { ConfluentAvroCodec } from '../../src/codec/confluent-avro-codec.js';
import { wireHeaderBytes } from '../../src/codec/confluent-avro-codec.js';
import type { RecordCodec } from '../../src/codec/record-codec.js';
import { PoisonRecordError, PoisonReasons, UsageError } from '../../src/errors.js';
import { ModelVersion } from '../../src/model/model-version.js';
import { FeatureExtractor } from '../../src/model/features.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import type { InputFormat } from '../../src/offline/input.js';
import { readRecords } from '../../src/offline/input.js';
import { DeadLetterHeader } from '../../src/worker/dead-letter.js';
import type { OutboundMessage, SourceRecord } from '../../src/worker/ports.js';
import type { RecordLimits } from '../../src/worker/record-limits.js';
import { applyRecordLimits } from '../../src/worker/record-limits.js';
import type { ValueLabels } from '../../src/worker/serving-model.js';
import { labelledChunk, ServingModel, VersionHeaders } from '../../src/worker/serving-model.js';
import type { Payload } from './fuzz-payloads.js';

/** What one chunk of payloads came to. */
export interface ChunkOutcome {
  /** Labelled and published (after the record limits). */
  accepted: number;
  /** By poison reason, or `usage-error` for input the CLI refuses. */
  readonly rejected: Map<string, number>;
  /** Each a sentence naming the payload and what went wrong; the property wants none. */
  readonly violations: string[];
}

export function emptyOutcome(): ChunkOutcome {
  return { accepted: 0, rejected: new Map(), violations: [] };
}

function reject(outcome: ChunkOutcome, reason: string, count = 1): void {
  outcome.rejected.set(reason, (outcome.rejected.get(reason) ?? 0) + count);
}

/** The start of a payload, for reports. */
export function preview(value: Buffer | null): string {
  if (value === null) return 'null';
  const head = value.subarray(0, 48).toString('hex');
  return `${value.length} bytes 0x${head}${value.length > 48 ? '…' : ''}`;
}

const knownReasons = new Set<string>(PoisonReasons);

/** Why `error` is not a proper poison-record error, or undefined when it is one. */
function uncoded(error: unknown): string | undefined {
  if (!(error instanceof PoisonRecordError)) {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    return `uncoded ${name}: ${message.slice(0, 160)}`;
  }
  if (!knownReasons.has(error.reason)) return `unknown poison reason ${error.reason}`;
  if (error.message.trim() === '') return `poison error (${error.reason}) without a message`;
  return undefined;
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Reads an output value back: the record it holds, or why it is not a valid labelled record. */
type OutputReader = (value: Buffer) => Record<string, unknown>;

/** A labelled record must carry its label: cluster in range, confidence in [0, 1], the version. */
function labelProblem(
  output: Record<string, unknown>,
  clusters: number,
  version: number,
): string | undefined {
  const { cluster, confidence } = output;
  const modelVersion = output.model_version;
  if (
    typeof cluster !== 'number' ||
    !Number.isInteger(cluster) ||
    cluster < 0 ||
    cluster >= clusters
  ) {
    return `output cluster ${String(cluster)} is not one of the ${clusters} clusters`;
  }
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
    return `output confidence ${String(confidence)} is not in [0, 1]`;
  }
  if (Number(modelVersion) !== version) return `output model_version ${String(modelVersion)}`;
  return undefined;
}

/** The worker's labelling path for one codec and one model version. */
export class WorkerPathHarness {
  private readonly serving: ServingModel;
  private readonly extractor: FeatureExtractor;
  private readonly headers = new VersionHeaders();
  /** The payload kinds of the chunk being checked. */
  private kinds: readonly string[] = [];

  /**
   * `readOutput` decodes a labelled value with the output schema; `reference`, when given, is a
   * second codec whose labelling must agree exactly (the JSON codec without its fast path).
   */
  constructor(
    private readonly codec: RecordCodec,
    snapshot: ModelSnapshot,
    private readonly limits: RecordLimits,
    private readonly readOutput: OutputReader,
    private readonly reference?: RecordCodec,
  ) {
    this.serving = new ServingModel(snapshot);
    this.extractor = new FeatureExtractor(snapshot.featureSpec);
  }

  async check(payloads: readonly Payload[]): Promise<ChunkOutcome> {
    const values = payloads.map((p) => p.value);
    this.kinds = payloads.map((p) => p.kind);
    const records: SourceRecord[] = values.map((value, i) => ({
      topic: 'fuzz-input',
      partition: 0,
      offset: String(i),
      key: null,
      value,
      headers: {},
      timestampMs: 0,
    }));
    const outcome = emptyOutcome();
    const say = (index: number, problem: string): void => {
      const payload = payloads[index] as Payload;
      outcome.violations.push(`${payload.kind} payload (${preview(payload.value)}): ${problem}`);
    };

    // InProcessLabeller.label, step by step, so each failure is seen before it becomes a dead letter.
    await this.codec.prepare?.(values);
    const labels = this.serving.labelValues(values, this.codec);
    this.checkLabels(labels, values, say);
    if (this.reference !== undefined) {
      await this.reference.prepare?.(values);
      this.compare(labels, this.serving.labelValues(values, this.reference), say);
    }
    const chunk = applyRecordLimits(
      labelledChunk(records, labels, this.headers),
      records,
      this.limits,
    );
    this.checkChunk(chunk.labelled, chunk.deadLetters, values, say, outcome);
    outcome.accepted += chunk.labelled.length;
    for (const [reason, count] of chunk.deadReasons) reject(outcome, reason, count);
    return outcome;
  }

  dispose(): void {
    this.serving.dispose();
  }

  /** Every value labelled or failed exactly once; failures coded; features finite; outputs valid. */
  private checkLabels(
    labels: ValueLabels,
    values: readonly (Buffer | null)[],
    say: (index: number, problem: string) => void,
  ): void {
    const seen = new Uint8Array(values.length);
    for (const failure of labels.failures) {
      seen[failure.index] = (seen[failure.index] as number) + 1;
      const problem = uncoded(failure.error) ?? this.refusedValid(failure.index, failure.error);
      if (problem !== undefined) say(failure.index, problem);
    }
    for (let i = 0; i < labels.indices.length; i++) {
      const index = labels.indices[i] as number;
      seen[index] = (seen[index] as number) + 1;
    }
    seen.forEach((count, index) => {
      if (count !== 1) say(index, `labelled or failed ${count} times, not once`);
    });

    const dims = this.extractor.dims;
    const { x } = labels;
    if (x.cols !== dims || x.data.length !== x.rows * dims || x.rows < labels.indices.length) {
      say(0, `feature matrix is ${x.rows}×${x.cols} for ${labels.indices.length} labelled values`);
    }
    for (let i = 0; i < x.data.length; i++) {
      if (!Number.isFinite(x.data[i])) {
        const row = Math.floor(i / dims);
        const index = labels.indices[row] ?? 0;
        say(index, `accepted with a non-finite feature (${String(x.data[i])})`);
        break;
      }
    }
    const assignment = labels.assignment;
    for (let i = 0; i < labels.indices.length; i++) {
      const index = labels.indices[i] as number;
      if (assignment !== undefined && !Number.isFinite(assignment.confidence[i])) {
        say(index, `assigned with confidence ${String(assignment.confidence[i])}`);
      }
      this.checkOutput(
        values[index] as Buffer,
        labels.values[i] as Buffer,
        labels.modelVersion,
        (p) => say(index, p),
      );
    }
  }

  /** A record that every format carries and the model can label must not be refused. */
  private refusedValid(index: number, error: unknown): string | undefined {
    if (this.kinds[index] !== 'valid') return undefined;
    return `a valid payload was refused (${(error as Error).message})`;
  }

  /** The output holds a valid label and the same features as the input it came from. */
  private checkOutput(
    input: Buffer,
    output: Buffer,
    version: number,
    say: (problem: string) => void,
  ): void {
    let record: Record<string, unknown>;
    try {
      record = this.readOutput(output);
    } catch (error) {
      say(`its labelled output does not decode (${(error as Error).message})`);
      return;
    }
    const problem = labelProblem(record, this.serving.model.clusters, version);
    if (problem !== undefined) {
      say(problem);
      return;
    }
    const dims = this.extractor.dims;
    const before = new Float32Array(dims);
    const after = new Float32Array(dims);
    try {
      this.extractor.extract(this.codec.decode(input), before, 0);
      this.extractor.extract(record, after, 0);
    } catch (error) {
      say(`its input or output lost a feature (${(error as Error).message})`);
      return;
    }
    if (!sameFloats(before, after)) say('its labelled output carries other feature values');
  }

  /** Fast path and slow path must label a chunk identically. */
  private compare(
    fast: ValueLabels,
    slow: ValueLabels,
    say: (index: number, problem: string) => void,
  ): void {
    const reasons = (labels: ValueLabels): Map<number, string> =>
      new Map(
        labels.failures.map((f) => [
          f.index,
          f.error instanceof PoisonRecordError ? f.error.reason : 'uncoded',
        ]),
      );
    const fastReasons = reasons(fast);
    for (const [index, reason] of reasons(slow)) {
      if (fastReasons.get(index) !== reason) {
        say(
          index,
          `the fast path says ${fastReasons.get(index) ?? 'labelled'}, decoding says ${reason}`,
        );
      }
    }
    if (Array.from(fast.indices).join() !== Array.from(slow.indices).join()) {
      say(0, 'the fast path labels other values than decoding does');
      return;
    }
    for (let i = 0; i < fast.indices.length; i++) {
      const index = fast.indices[i] as number;
      const dims = fast.x.cols;
      const a = fast.x.data.subarray(i * dims, (i + 1) * dims);
      const b = slow.x.data.subarray(i * dims, (i + 1) * dims);
      if (!sameFloats(a, b)) say(index, 'the fast path reads other feature values than decoding');
      else if (!(fast.values[i] as Buffer).equals(slow.values[i] as Buffer)) {
        say(index, 'the fast path writes another labelled value than decoding');
      }
    }
  }

  /** After the record limits: one message per record, dead letters complete and explained. */
  private checkChunk(
    labelled: readonly OutboundMessage[],
    deadLetters: readonly OutboundMessage[],
    values: readonly (Buffer | null)[],
    say: (index: number, problem: string) => void,
    outcome: ChunkOutcome,
  ): void {
    if (labelled.length + deadLetters.length !== values.length) {
      outcome.violations.push(
        `${values.length} records became ${labelled.length} labelled and ${deadLetters.length} dead letters`,
      );
    }
    for (const letter of deadLetters) {
      const offset = String(letter.headers[DeadLetterHeader.SourceOffset]);
      const index = Number(offset);
      const original = values[index];
      if (!Number.isInteger(index) || original === undefined) {
        outcome.violations.push(`a dead letter names no source record (offset ${offset})`);
        continue;
      }
      const reason = String(letter.headers[DeadLetterHeader.Reason]);
      const error = String(letter.headers[DeadLetterHeader.Error] ?? '');
      if (!knownReasons.has(reason)) say(index, `dead-lettered with unknown reason "${reason}"`);
      if (error.trim() === '') say(index, 'dead-lettered without an error message');
      const kept = letter.value;
      const originalBytes = letter.headers[DeadLetterHeader.OriginalBytes];
      if (original === null ? kept !== null : kept === null) {
        say(index, 'its dead letter lost the value');
      } else if (original !== null && kept !== null && !original.equals(kept)) {
        const isPrefix = original.subarray(0, kept.length).equals(kept);
        if (!isPrefix || String(originalBytes) !== String(original.length)) {
          say(index, 'its dead letter holds other bytes than the record');
        }
      }
    }
  }
}

/** Output readers: JSON text, a plain Avro body, a Confluent-framed body. */
export function jsonOutput(codec: RecordCodec): OutputReader {
  return (value) => codec.decode(value);
}

function strictAvro(type: Type, value: Buffer, offset: number): Record<string, unknown> {
  const decoded = type.decode(value, offset);
  if (decoded.offset !== value.length) throw new Error('the output is not one Avro body');
  return decoded.value as Record<string, unknown>;
}

export function avroOutput(codec: AvroCodec): OutputReader {
  return (value) => strictAvro(codec.schemas.outputType, value, 0);
}

export function confluentOutput(codec: ConfluentAvroCodec): OutputReader {
  return (value) => {
    if (value[0] !== 0 || value.readUInt32BE(1) !== codec.outputSchemaId) {
      throw new Error('the output is not framed with the labelled schema id');
    }
    return strictAvro(codec.schemas.outputType, value, wireHeaderBytes);
  };
}

/** Own property names of the objects a record path could reach by inheritance. */
function prototypeNames(): string[] {
  return [Object.prototype, Object, Function.prototype].map((o) =>
    Object.getOwnPropertyNames(o).sort().join(','),
  );
}

/**
 * The CLI's path for CSV or JSON-lines input: readRecords, then ModelVersion (as
 * `dec-stream assign` does).
 */
export class CliPathHarness {
  private readonly assigner: ModelVersion;
  private readonly baseline = prototypeNames();

  constructor(
    snapshot: ModelSnapshot,
    private readonly format: InputFormat,
  ) {
    this.assigner = new ModelVersion(snapshot);
  }

  async check(payloads: readonly Payload[]): Promise<ChunkOutcome> {
    const outcome = emptyOutcome();
    const records: Record<string, unknown>[] = [];
    const origin: number[] = [];
    for (let p = 0; p < payloads.length; p++) {
      const payload = payloads[p] as Payload;
      try {
        const stdin = Readable.from([payload.value ?? Buffer.alloc(0)]);
        for await (const item of readRecords('-', { format: this.format, stdin })) {
          records.push(item.record);
          origin.push(p);
        }
      } catch (error) {
        const problem =
          error instanceof UsageError && error.message.trim() !== ''
            ? payload.kind === 'valid'
              ? `valid input was refused (${error.message})`
              : undefined
            : (uncoded(error) ?? 'not a usage error');
        if (problem === undefined) reject(outcome, 'usage-error');
        else
          outcome.violations.push(
            `${payload.kind} ${this.format} (${preview(payload.value)}): ${problem}`,
          );
      }
      this.checkPrototypes(payload, outcome);
    }
    this.checkAssignment(records, origin, payloads, outcome);
    return outcome;
  }

  dispose(): void {
    this.assigner.dispose();
  }

  /** No header may reach Object.prototype (or Object, or Function.prototype) through a path. */
  private checkPrototypes(payload: Payload, outcome: ChunkOutcome): void {
    const now = prototypeNames();
    if (now.every((names, i) => names === this.baseline[i])) return;
    outcome.violations.push(
      `${payload.kind} ${this.format} (${preview(payload.value)}): a record path wrote to a shared prototype`,
    );
    // Undo it, so one polluting payload does not change how the ones after it behave.
    [Object.prototype, Object, Function.prototype].forEach((target, i) => {
      const before = new Set((this.baseline[i] as string).split(','));
      for (const name of Object.getOwnPropertyNames(target)) {
        if (!before.has(name)) delete (target as Record<string, unknown>)[name];
      }
    });
  }

  private checkAssignment(
    records: readonly Record<string, unknown>[],
    origin: readonly number[],
    payloads: readonly Payload[],
    outcome: ChunkOutcome,
  ): void {
    const say = (i: number, problem: string): void => {
      const payload = payloads[origin[i] as number] as Payload;
      outcome.violations.push(
        `${payload.kind} ${this.format} (${preview(payload.value)}): ${problem}`,
      );
    };
    const { x, row, rejected } = this.assigner.features(records);
    for (const { index, error } of rejected) {
      const kind = (payloads[origin[index] as number] as Payload).kind;
      const problem =
        uncoded(error) ??
        (kind === 'valid' ? `a valid row was refused (${error.message})` : undefined);
      if (problem === undefined) reject(outcome, error.reason);
      else say(index, problem);
    }
    for (let i = 0; i < records.length; i++) {
      const r = row[i] as number;
      if (r < 0) continue;
      for (let c = 0; c < x.cols; c++) {
        const value = x.data[r * x.cols + c] as number;
        if (!Number.isFinite(value)) {
          say(i, `accepted with a non-finite feature (${String(value)})`);
          break;
        }
      }
    }
    const result = this.assigner.assignRecords(records);
    for (let i = 0; i < records.length; i++) {
      const r = result.row[i] as number;
      if (r < 0) continue;
      outcome.accepted++;
      const confidence = result.batch.confidence[r] as number;
      if (!(confidence >= 0 && confidence <= 1))
        say(i, `assigned with confidence ${String(confidence)}`);
    }
  }
}
