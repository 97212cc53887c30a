/**
 * Property-based fuzzing of everything a record goes through before it is labelled: the JSON,
 * plain Avro and Confluent decoders, feature extraction (the JSON fast path and the extractor),
 * standardisation and its finite check, the record limits and the dead-letter decision; and the
 * CLI's CSV and JSON-lines reading. Payloads come from fast-check arbitraries (fuzz-payloads.ts),
 * the property is checked by fuzz-harness.ts.
 *
 *   node --import tsx bench/chaos/fuzz.ts --payloads 100000 [--seed 1]
 *
 * prints the figures as JSON. Passing means no crash (nothing thrown out of the path), no
 * property violation, and no chunk of payloads that stalls.
 */
import fc from 'fast-check';
import { AvroCodec } from '../../src/codec/avro-codec.js';
import { ConfluentAvroCodec } from '../../src/codec/confluent-avro-codec.js';
import { InMemorySchemaRegistry } from '../../src/codec/in-memory-schema-registry.js';
import { JsonCodec } from '../../src/codec/json-codec.js';
import type { RecordCodec } from '../../src/codec/record-codec.js';
import { initBackend } from '../../src/model/backend.js';
import type { ChunkOutcome } from './fuzz-harness.js';
import {
  avroOutput,
  confluentOutput,
  CliPathHarness,
  jsonOutput,
  preview,
  WorkerPathHarness,
} from './fuzz-harness.js';
import {
  csvFeatures,
  fuzzSnapshot,
  incompatibleSchema,
  readerSchema,
  recordFeatures,
  SchemaIds,
  writerSchemaV2,
} from './fuzz-model.js';
import type { Payload } from './fuzz-payloads.js';
import type { ScenarioResult } from './scenario.js';
import {
  avroPayload,
  confluentPayload,
  csvPayload,
  jsonLinesPayload,
  jsonPayload,
} from './fuzz-payloads.js';

export interface FuzzOptions {
  /** Payloads in all, shared among the formats. */
  readonly payloads: number;
  readonly seed: number;
  /** Told when each format is done (the CLI writes it to stderr). */
  readonly log?: (line: string) => void;
}

/** The worker's three input formats, then the CLI's two. */
export type FuzzFormat = 'json' | 'avro' | 'confluent' | 'csv' | 'jsonl';

/** Share of the payloads per format. */
const shares: Readonly<Record<FuzzFormat, number>> = {
  json: 0.35,
  avro: 0.25,
  confluent: 0.2,
  csv: 0.12,
  jsonl: 0.08,
};

const arbitraries: Readonly<Record<FuzzFormat, fc.Arbitrary<Payload>>> = {
  json: jsonPayload,
  avro: avroPayload,
  confluent: confluentPayload,
  csv: csvPayload,
  jsonl: jsonLinesPayload,
};

/** Payloads per chunk: one labelled unit, as the worker labels a batch. */
const chunkSize = 250;
/** A chunk slower than this stalls the worker's partition: a violation. */
const stallMs = 5000;
/** Violation sentences kept in the notes. */
const maxNotes = 20;

/** Small enough that deep or padded payloads are too large to publish or to dead-letter whole. */
const recordLimits = { labelledBytes: 16 * 1024, deadLetterBytes: 8 * 1024 };

/** The JSON codec without its fast path: the reference the fast path must agree with. */
class DecodingJson implements RecordCodec {
  private readonly inner = new JsonCodec();
  decode(bytes: Buffer | null): Record<string, unknown> {
    return this.inner.decode(bytes);
  }
  encodeLabelled(...args: Parameters<JsonCodec['encodeLabelled']>): Buffer {
    return this.inner.encodeLabelled(...args);
  }
}

interface Harness {
  check(payloads: readonly Payload[]): Promise<ChunkOutcome>;
  dispose(): void;
}

/** The real path of each format: its codec, a model version, the worker's record limits. */
export async function createHarness(format: FuzzFormat): Promise<Harness> {
  await initBackend('cpu');
  const snapshot = fuzzSnapshot(recordFeatures);
  switch (format) {
    case 'json': {
      const codec = new JsonCodec();
      return new WorkerPathHarness(
        codec,
        snapshot,
        recordLimits,
        jsonOutput(codec),
        new DecodingJson(),
      );
    }
    case 'avro': {
      const codec = new AvroCodec(readerSchema);
      return new WorkerPathHarness(codec, snapshot, recordLimits, avroOutput(codec));
    }
    case 'confluent': {
      const registry = new InMemorySchemaRegistry([
        { id: SchemaIds.reader, schema: JSON.stringify(readerSchema), subject: 'fuzz-input-value' },
        { id: SchemaIds.v2, schema: JSON.stringify(writerSchemaV2), subject: 'fuzz-input-value' },
        { id: SchemaIds.incompatible, schema: JSON.stringify(incompatibleSchema) },
      ]);
      const codec = await ConfluentAvroCodec.create({
        registry,
        readerSchema,
        inputTopic: 'fuzz-input',
        outputTopic: 'fuzz-labelled',
      });
      return new WorkerPathHarness(codec, snapshot, recordLimits, confluentOutput(codec));
    }
    case 'csv':
    case 'jsonl':
      return new CliPathHarness(fuzzSnapshot(csvFeatures), format);
  }
}

/** The payloads of chunk `index` of `format`: the same for the same seed. */
export function chunkPayloads(
  format: FuzzFormat,
  seed: number,
  index: number,
  size: number,
): Payload[] {
  const formatIndex = Object.keys(shares).indexOf(format);
  return fc.sample(arbitraries[format], {
    numRuns: size,
    seed: (seed + formatIndex * 1_000_003 + index * 7919) | 0,
  });
}

interface Tally {
  payloads: number;
  accepted: number;
  crashes: number;
  violations: number;
  slowestChunkMs: number;
  readonly rejected: Map<string, number>;
  readonly notes: string[];
}

function note(tally: Tally, text: string): void {
  if (tally.notes.length < maxNotes) tally.notes.push(text);
}

/**
 * Runs one chunk. A chunk that throws is a crash; each of its payloads is then run alone, so the
 * note names the payload that crashed the path.
 */
async function runChunk(
  harness: Harness,
  format: FuzzFormat,
  payloads: Payload[],
  tally: Tally,
): Promise<void> {
  tally.payloads += payloads.length;
  const started = performance.now();
  let outcome: ChunkOutcome;
  try {
    outcome = await harness.check(payloads);
  } catch (error) {
    tally.crashes++;
    let culprit = 'no single payload';
    for (const payload of payloads) {
      try {
        await harness.check([payload]);
      } catch {
        culprit = `${payload.kind} payload (${preview(payload.value)})`;
        break;
      }
    }
    note(
      tally,
      `${format}: crash (${(error as Error).name}: ${(error as Error).message}) on ${culprit}`,
    );
    return;
  }
  const ms = performance.now() - started;
  tally.slowestChunkMs = Math.max(tally.slowestChunkMs, ms);
  if (ms > stallMs) {
    tally.violations++;
    note(tally, `${format}: a chunk of ${payloads.length} payloads took ${Math.round(ms)} ms`);
  }
  tally.accepted += outcome.accepted;
  for (const [reason, count] of outcome.rejected) {
    tally.rejected.set(reason, (tally.rejected.get(reason) ?? 0) + count);
  }
  tally.violations += outcome.violations.length;
  for (const violation of outcome.violations) note(tally, `${format}: ${violation}`);
}

export async function runFuzzScenario(options: FuzzOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const figures: Record<string, number | string> = { seed: options.seed };
  const totals: Tally = {
    payloads: 0,
    accepted: 0,
    crashes: 0,
    violations: 0,
    slowestChunkMs: 0,
    rejected: new Map(),
    notes: [],
  };
  for (const format of Object.keys(shares) as FuzzFormat[]) {
    const count = Math.ceil(options.payloads * shares[format]);
    const before = { payloads: totals.payloads, accepted: totals.accepted };
    const harness = await createHarness(format);
    try {
      for (let index = 0, done = 0; done < count; index++) {
        const size = Math.min(chunkSize, count - done);
        await runChunk(harness, format, chunkPayloads(format, options.seed, index, size), totals);
        done += size;
      }
    } finally {
      harness.dispose();
    }
    figures[`payloads_${format}`] = totals.payloads - before.payloads;
    figures[`accepted_${format}`] = totals.accepted - before.accepted;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    options.log?.(
      `${format}: ${totals.payloads - before.payloads} payloads, ${totals.crashes} crashes and ${totals.violations} violations so far, ${seconds} s`,
    );
  }
  const elapsedS = (performance.now() - started) / 1000;
  figures.payloads = totals.payloads;
  figures.accepted = totals.accepted;
  const rejected = [...totals.rejected].sort(([a], [b]) => a.localeCompare(b));
  figures.rejected = rejected.reduce((sum, [, count]) => sum + count, 0);
  for (const [reason, count] of rejected) figures[`rejected_${reason}`] = count;
  figures.crashes = totals.crashes;
  figures.violations = totals.violations;
  figures.slowest_chunk_ms = Math.round(totals.slowestChunkMs);
  figures.elapsed_s = Number(elapsedS.toFixed(2));
  figures.payloads_per_s = Math.round(totals.payloads / elapsedS);
  const passed = totals.crashes === 0 && totals.violations === 0;
  return {
    name: 'fuzz',
    passed,
    figures,
    notes: [
      `${totals.payloads} payloads (JSON, plain Avro, Confluent-framed Avro, CLI CSV and JSON lines) in chunks of ${chunkSize}, seed ${options.seed}`,
      'the worker formats count one outcome per payload; the CLI formats one per row read, and a refused input (usage-error) once',
      ...totals.notes,
    ],
  };
}

function argument(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} takes a positive integer, got ${String(args[at + 1])}`);
  }
  return value;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const result = await runFuzzScenario({
    payloads: argument(args, 'payloads', 100_000),
    seed: argument(args, 'seed', 1),
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.passed ? 0 : 1;
}
