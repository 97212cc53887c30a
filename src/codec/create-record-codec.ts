import type { Schema } from 'avsc';
import { ConfigError } from '../errors.js';
import { AvroCodec } from './avro-codec.js';
import { ConfluentAvroCodec } from './confluent-avro-codec.js';
import { JsonCodec } from './json-codec.js';
import type { OutputDetail, RecordCodec } from './record-codec.js';
import type { SchemaRegistry } from './schema-registry.js';

export interface RecordCodecOptions {
  readonly format: 'json' | 'avro';
  /** Reader schema: .avsc text (read by the caller) or object. */
  readonly avroSchema?: string | Schema | undefined;
  /** Present: Avro values use the Confluent wire format. */
  readonly registry?: SchemaRegistry | undefined;
  readonly inputTopic: string;
  readonly outputTopic: string;
  /** 'full': labelled records also carry runner_up and margin. Default 'basic'. */
  readonly outputDetail?: OutputDetail;
}

/** The codec for a topic's format: JSON, plain Avro, or Avro framed for a schema registry. */
export async function createRecordCodec(options: RecordCodecOptions): Promise<RecordCodec> {
  const outputDetail = options.outputDetail ?? 'basic';
  if (options.format === 'json') return new JsonCodec({ outputDetail });
  if (options.registry !== undefined) {
    return ConfluentAvroCodec.create({
      registry: options.registry,
      readerSchema: options.avroSchema,
      inputTopic: options.inputTopic,
      outputTopic: options.outputTopic,
      outputDetail,
    });
  }
  if (options.avroSchema === undefined) {
    throw new ConfigError([
      { path: 'DEC_AVRO_SCHEMA', message: 'is required for avro without a schema registry' },
    ]);
  }
  return new AvroCodec(options.avroSchema, outputDetail);
}
