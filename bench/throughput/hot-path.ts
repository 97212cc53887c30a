/**
 * The labelling hot path without Kafka: microseconds per record for each step the worker runs on a
 * chunk (JSON decode, feature extraction + standardisation, assignment, labelled encoding, headers)
 * and for ServingModel.label as a whole, on the benchmark's tabular and MNIST records. Free of
 * broker and network noise, so before/after ratios of a change can be read from it.
 *
 *   node --import tsx bench/throughput/hot-path.ts   (BENCH_HOT_PATH_ROUNDS=5 by default; also
 *   part of `npm run bench:profile`)
 */
import { createRequire } from 'node:module';
import type { Schema } from 'avsc';
import { AvroCodec } from '../../src/codec/avro-codec.js';
import { JsonCodec } from '../../src/codec/json-codec.js';
import type { Label, RecordCodec } from '../../src/codec/record-codec.js';
import { withEncodedHeaders } from '../../src/kafka/encoded-headers.js';
import { standardiseRows } from '../../src/model/standardise.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import { ModelVersion } from '../../src/model/model-version.js';
import { ThreadLabeller } from '../../src/worker/labeller/thread-labeller.js';
import type { SourceRecord } from '../../src/worker/ports.js';
import { ServingModel } from '../../src/worker/serving-model.js';
import { FeatureExtractor } from '../../src/model/features.js';
import { envNumber } from '../common/args.js';
import { benchBackend } from '../common/backend.js';
import type { EncodedRecords } from './datasets.js';
import { mnistRecords, tabularRecords } from './datasets.js';
import { mnistModel, tabularModel } from './models.js';

const CHUNK = 1000;

/** kafkajs's internal record encoder (v2 record batches). */
const encodeRecord = createRequire(import.meta.url)(
  'kafkajs/src/protocol/recordBatch/record/v0/index.js',
) as (record: {
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
  headers: Readonly<Record<string, string | Buffer | (string | Buffer)[]>>;
}) => { size(): number };

function sourceRecords(data: EncodedRecords, topic: string): SourceRecord[] {
  return data.values.map((value, i) => ({
    topic,
    partition: 0,
    offset: String(i),
    key: data.keys[i] ?? null,
    value,
    headers: { 'bench-sent-ms': '1700000000000' },
    timestampMs: 1_700_000_000_000,
  }));
}

/** Best of `rounds` of fn over all chunks, in µs per record. */
function time(rounds: number, records: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    fn();
    best = Math.min(best, performance.now() - started);
  }
  return (best * 1000) / records;
}

export interface HotPathResult {
  readonly dataset: string;
  readonly records: number;
  readonly microsPerRecord: Record<string, number>;
}

function measure(data: EncodedRecords, snapshot: ModelSnapshot, rounds: number): HotPathResult {
  const records = sourceRecords(data, `bench-${data.name}`);
  const codec = new JsonCodec();
  const extractor = new FeatureExtractor(snapshot.featureSpec);
  const assigner = ModelVersion.ofParameters(snapshot.parameters);
  const serving = new ServingModel(snapshot);
  const dims = extractor.dims;
  const n = records.length;
  const chunks: SourceRecord[][] = [];
  for (let i = 0; i < n; i += CHUNK) chunks.push(records.slice(i, i + CHUNK));

  const decoded = records.map((r) => codec.decode(r.value));
  const x = new Float32Array(n * dims);
  decoded.forEach((v, i) => extractor.extract(v, x, i * dims));
  standardiseRows(x, 0, n, snapshot.standardisation);
  const assignments = chunks.map((c, j) =>
    assigner.assign({
      data: x.subarray(j * CHUNK * dims, (j * CHUNK + c.length) * dims),
      rows: c.length,
      cols: dims,
    }),
  );
  let sink = 0;

  const us: Record<string, number> = {};
  us['json decode'] = time(rounds, n, () => {
    for (const r of records) sink += Object.keys(codec.decode(r.value)).length;
  });
  us['feature extraction + standardise'] = time(rounds, n, () => {
    const row = new Float32Array(n * dims);
    for (let i = 0; i < n; i++) {
      extractor.extract(decoded[i], row, i * dims);
      standardiseRows(row, i, 1, snapshot.standardisation);
    }
    sink += row[0] as number;
  });
  // What the worker runs instead of the two rows above where the codec has a fast path: the
  // features read straight from the bytes (src/codec/json-feature-scanner.ts).
  const scanner = codec.featureScanner(snapshot.featureSpec.fields, snapshot.featureSpec.widths);
  if (scanner === undefined) throw new Error('the benchmark layout has no JSON feature scanner');
  us['json feature scan + standardise (fast path)'] = time(rounds, n, () => {
    const row = new Float32Array(n * dims);
    for (let i = 0; i < n; i++) {
      if (!scanner.read(records[i]?.value as Buffer, row, i * dims)) throw new Error('declined');
      standardiseRows(row, i, 1, snapshot.standardisation);
    }
    sink += row[0] as number;
  });
  us['assign (tensors, per chunk of 1000)'] = time(rounds, n, () => {
    for (let j = 0; j < chunks.length; j++) {
      const rows = (chunks[j] as SourceRecord[]).length;
      const batch = assigner.assign({
        data: x.subarray(j * CHUNK * dims, (j * CHUNK + rows) * dims),
        rows,
        cols: dims,
      });
      sink += batch.cluster[0] as number;
    }
  });
  us['labelled JSON encode'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      const a = assignments[Math.floor(i / CHUNK)];
      const k = i % CHUNK;
      const bytes = codec.encodeLabelled(decoded[i] as Record<string, unknown>, {
        cluster: a?.cluster[k] ?? 0,
        confidence: a?.confidence[k] ?? 0,
        modelVersion: 1,
      });
      sink += bytes.length;
    }
  });
  // The labelled encoding as it was first written (spread copy, then stringify), for comparison.
  us['labelled JSON encode, spread copy (before)'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      const a = assignments[Math.floor(i / CHUNK)];
      const k = i % CHUNK;
      const text = JSON.stringify({
        ...decoded[i],
        cluster: a?.cluster[k] ?? 0,
        confidence: a?.confidence[k] ?? 0,
        model_version: 1,
      });
      sink += Buffer.from(text, 'utf8').length;
    }
  });
  // What the worker runs: the label appended to the source bytes the record was decoded from.
  us['labelled JSON encode, from source bytes'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      const a = assignments[Math.floor(i / CHUNK)];
      const k = i % CHUNK;
      const bytes = codec.encodeLabelled(
        decoded[i] as Record<string, unknown>,
        { cluster: a?.cluster[k] ?? 0, confidence: a?.confidence[k] ?? 0, modelVersion: 1 },
        records[i]?.value,
      );
      sink += bytes.length;
    }
  });
  us['labelled JSON encode, from source bytes (fast path)'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      const a = assignments[Math.floor(i / CHUNK)];
      const k = i % CHUNK;
      const bytes = scanner.label(records[i]?.value as Buffer, {
        cluster: a?.cluster[k] ?? 0,
        confidence: a?.confidence[k] ?? 0,
        modelVersion: 1,
      });
      sink += bytes.length;
    }
  });
  // The same records as plain Avro (numbers as doubles, arrays of doubles): the labelled value
  // written again from the record, and appended to the bytes it was decoded from.
  const avroCodec = new AvroCodec(avroSchemaOf(decoded[0] as Record<string, unknown>));
  const avroValues = decoded.map((d) => avroCodec.schemas.inputType.toBuffer(d));
  const avroDecoded = avroValues.map((v) => avroCodec.decode(v));
  const avroLabel = (i: number): Label => {
    const a = assignments[Math.floor(i / CHUNK)];
    const k = i % CHUNK;
    return { cluster: a?.cluster[k] ?? 0, confidence: a?.confidence[k] ?? 0, modelVersion: 1 };
  };
  us['labelled Avro encode'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      sink += avroCodec.encodeLabelled(
        avroDecoded[i] as Record<string, unknown>,
        avroLabel(i),
      ).length;
    }
  });
  us['labelled Avro encode, from source bytes'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      const record = avroDecoded[i] as Record<string, unknown>;
      sink += avroCodec.encodeLabelled(record, avroLabel(i), avroValues[i]).length;
    }
  });
  // kafkajs's record encoder, as the producer runs it per record, without and with the
  // dec-model-version header the worker adds.
  us['kafkajs record encode, no header'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      sink += encodeRecord({ key: records[i]?.key, value: records[i]?.value, headers: {} }).size();
    }
  });
  us['kafkajs record encode, one header'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      sink += encodeRecord({
        key: records[i]?.key,
        value: records[i]?.value,
        headers: { 'dec-model-version': '1' },
      }).size();
    }
  });
  const versionHeader = Buffer.from('1');
  us['kafkajs record encode, one header (Buffer value)'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      sink += encodeRecord({
        key: records[i]?.key,
        value: records[i]?.value,
        headers: { 'dec-model-version': versionHeader },
      }).size();
    }
  });
  // As the publishing thread hands them over: one headers object per unit, encoded once.
  const sharedHeader = withEncodedHeaders({ 'dec-model-version': versionHeader });
  us['kafkajs record encode, one header (encoded once per unit)'] = time(rounds, n, () => {
    for (let i = 0; i < n; i++) {
      sink += encodeRecord({
        key: records[i]?.key,
        value: records[i]?.value,
        headers: sharedHeader,
      }).size();
    }
  });
  us['ServingModel.label (all of the above)'] = time(rounds, n, () => {
    for (const c of chunks) sink += serving.label(c, codec).labelled.length;
  });
  // The same codec without its fast path: every value decoded into a record first.
  const decodeOnly: RecordCodec = {
    decode: (bytes) => codec.decode(bytes),
    encodeLabelled: (record, label, source) => codec.encodeLabelled(record, label, source),
  };
  us['ServingModel.label, without the fast path'] = time(rounds, n, () => {
    for (const c of chunks) sink += serving.label(c, decodeOnly).labelled.length;
  });
  assigner.dispose();
  serving.dispose();
  if (sink === -1) process.stdout.write('\n');
  for (const key of Object.keys(us)) us[key] = Math.round((us[key] as number) * 100) / 100;
  return { dataset: data.name, records: n, microsPerRecord: us };
}

/**
 * The labelling thread: what labelling still costs the main thread (packing, the message, joining
 * the answer with the records), and the wall time per record with every chunk asked for at once.
 */
async function measureThread(
  data: EncodedRecords,
  snapshot: ModelSnapshot,
  rounds: number,
  into: HotPathResult,
): Promise<void> {
  const records = sourceRecords(data, `bench-${data.name}`);
  const chunks: SourceRecord[][] = [];
  for (let i = 0; i < records.length; i += CHUNK) chunks.push(records.slice(i, i + CHUNK));
  const { labeller } = await ThreadLabeller.start({
    codec: { format: 'json' },
    backend: 'wasm',
    entry: {
      moduleUrl: new URL('../../src/run-worker.ts', import.meta.url).href,
      name: 'label-thread',
    },
  });
  try {
    await labeller.serve(snapshot);
    let wall = Number.POSITIVE_INFINITY;
    let main = Number.POSITIVE_INFINITY;
    for (let r = 0; r < rounds; r++) {
      // The main thread's busy time: the event loop's active time, to the microsecond (the
      // thread's CPU clock in /proc counts in 10 ms ticks, longer than a round here).
      const loopStarted = performance.eventLoopUtilization();
      const started = performance.now();
      await Promise.all(chunks.map((c) => labeller.label(c)));
      wall = Math.min(wall, performance.now() - started);
      main = Math.min(main, performance.eventLoopUtilization(loopStarted).active / 1000);
    }
    const us = into.microsPerRecord;
    us['label thread: wall, chunks pipelined'] =
      Math.round((wall * 1000 * 100) / records.length) / 100;
    us['label thread: main-thread CPU'] = Math.round((main * 1e6 * 100) / records.length) / 100;
  } finally {
    await labeller.close();
  }
}

/** An Avro record schema for a decoded benchmark record: numbers as doubles, arrays of doubles. */
function avroSchemaOf(sample: Record<string, unknown>): Schema {
  return {
    type: 'record',
    name: 'BenchRecord',
    fields: Object.keys(sample).map((name) => ({
      name,
      type: Array.isArray(sample[name]) ? { type: 'array', items: 'double' } : 'double',
    })),
  };
}

export async function hotPath(rounds: number): Promise<HotPathResult[]> {
  await benchBackend('wasm');
  const tabular = await tabularModel(16, 8);
  const mnist = await mnistModel();
  const tabularData = tabularRecords(20_000, 16, 8);
  const mnistData = mnistRecords(3_000);
  const results = [
    measure(tabularData, tabular.snapshot, rounds),
    measure(mnistData, mnist.snapshot, rounds),
  ];
  await measureThread(tabularData, tabular.snapshot, rounds, results[0] as HotPathResult);
  await measureThread(mnistData, mnist.snapshot, rounds, results[1] as HotPathResult);
  return results;
}

if (process.argv[1]?.endsWith('hot-path.ts')) {
  const rounds = envNumber('BENCH_HOT_PATH_ROUNDS', 5);
  for (const result of await hotPath(rounds)) {
    process.stdout.write(`\n${result.dataset} (${result.records} records), µs per record:\n`);
    for (const [step, value] of Object.entries(result.microsPerRecord)) {
      process.stdout.write(`  ${step.padEnd(50)} ${value.toFixed(2).padStart(8)}\n`);
    }
  }
}
