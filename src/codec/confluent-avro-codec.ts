import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { DecStreamError, PoisonRecordError, PoisonReason } from '../errors.js';
import { AvroBlockCheck } from './avro-block-check.js';
import { decodeBody } from './avro-codec.js';
import type { LabelledSchemas } from './avro-schema.js';
import { labelledSchemas } from './avro-schema.js';
import { LabelledWriter } from './labelled-writer.js';
import type { Label, OutputDetail, RecordCodec } from './record-codec.js';
import type { SchemaRegistry } from './schema-registry.js';
import { SchemaNotFoundError, valueSubject } from './schema-registry.js';

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body. */
export const wireHeaderBytes = 5;
const magicByte = 0;

type Resolver = Parameters<Type['decode']>[2];

/** What decode needs for one writer schema id, or why values with that id can never decode. */
type WriterEntry =
  | {
      readonly resolver: Resolver;
      /** The writer schema is the reader schema (same canonical form): bodies need no resolving. */
      readonly sameAsReader: boolean;
      /** Checks the writer schema's array and map blocks before avsc reads them. */
      readonly blocks: AvroBlockCheck | undefined;
    }
  | { readonly mismatch: string };

export interface ConfluentAvroCodecOptions {
  readonly registry: SchemaRegistry;
  /** Reader schema (.avsc text or object); absent: the latest `<inputTopic>-value` schema. */
  readonly readerSchema?: string | Schema | undefined;
  readonly inputTopic: string;
  /** The output schema is registered as `<outputTopic>-value`. */
  readonly outputTopic: string;
  /** 'full' adds runner_up and margin to the output schema. Default 'basic'. */
  readonly outputDetail?: OutputDetail;
}

/** Unknown writer-schema ids remembered at most (beyond the ones recent batches need). */
export const MaxUnknownSchemaIds = 10_000;
/** Prepare calls whose unknown ids are never forgotten: batches prepared but not yet decoded. */
const RecentPrepareCalls = 4;

/**
 * Avro in the Confluent wire format. Values written with any registered writer schema are read
 * into the reader schema (Avro schema resolution); writer schemas are fetched once per id by
 * `prepare` and cached. Output values carry the id of the registered labelled schema.
 */
export class ConfluentAvroCodec implements RecordCodec {
  readonly schemas: LabelledSchemas;
  readonly outputDetail: OutputDetail;
  readonly outputSchemaId: number;
  private readonly registry: SchemaRegistry;
  private readonly writers = new Map<number, WriterEntry>();
  /**
   * Ids the registry does not know, each with the `prepare` call that last needed it, least
   * recently needed first. Bounded: a producer writing other binary data whose first byte is 0
   * would otherwise leave one entry per random id.
   */
  private readonly unknownIds = new Map<number, number>();
  private prepareCalls = 0;
  private readonly writer: LabelledWriter;
  private readonly header: Buffer;

  private constructor(
    registry: SchemaRegistry,
    schemas: LabelledSchemas,
    outputSchemaId: number,
    outputDetail: OutputDetail,
  ) {
    this.registry = registry;
    this.schemas = schemas;
    this.outputSchemaId = outputSchemaId;
    this.outputDetail = outputDetail;
    this.writer = new LabelledWriter(schemas.inputType, outputDetail);
    this.header = Buffer.alloc(wireHeaderBytes);
    this.header[0] = magicByte;
    this.header.writeUInt32BE(outputSchemaId, 1);
  }

  /** Resolves the reader schema and registers the output schema. */
  static async create(options: ConfluentAvroCodecOptions): Promise<ConfluentAvroCodec> {
    const { registry } = options;
    const reader =
      options.readerSchema ??
      (await registry.getLatestSchema(valueSubject(options.inputTopic))).schema;
    const outputDetail = options.outputDetail ?? 'basic';
    const schemas = labelledSchemas(reader, undefined, outputDetail);
    const outputSchemaId = await registry.register(
      valueSubject(options.outputTopic),
      JSON.stringify(schemas.outputSchema),
    );
    return new ConfluentAvroCodec(registry, schemas, outputSchemaId, outputDetail);
  }

  async prepare(values: readonly (Buffer | null)[]): Promise<void> {
    const call = ++this.prepareCalls;
    const missing = new Set<number>();
    for (const value of values) {
      const id = schemaIdOf(value);
      if (id === undefined || this.writers.has(id)) continue;
      if (this.unknownIds.has(id)) {
        // Moved to the end: the least recently needed ids are forgotten first.
        this.unknownIds.delete(id);
        this.unknownIds.set(id, call);
      } else missing.add(id);
    }
    await Promise.all([...missing].map((id) => this.loadWriter(id, call)));
    this.forgetUnknownIds(call);
  }

  /**
   * Forgets the least recently needed unknown ids beyond MaxUnknownSchemaIds, but never one that
   * this call or the calls just before it needed: their batches may not be decoded yet. A
   * forgotten id costs one more registry lookup if it comes again.
   */
  private forgetUnknownIds(call: number): void {
    for (const [id, neededBy] of this.unknownIds) {
      if (this.unknownIds.size <= MaxUnknownSchemaIds || neededBy > call - RecentPrepareCalls) {
        break;
      }
      this.unknownIds.delete(id);
    }
  }

  /** How many unknown writer-schema ids are remembered (bounded; see forgetUnknownIds). */
  get unknownSchemaIds(): number {
    return this.unknownIds.size;
  }

  decode(bytes: Buffer | null): Record<string, unknown> {
    if (bytes === null) {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'record has no value');
    }
    const id = schemaIdOf(bytes);
    if (id === undefined) {
      throw new PoisonRecordError(
        PoisonReason.Undecodable,
        'value is not in the Confluent wire format (magic byte 0 and a 4-byte schema id)',
      );
    }
    const entry = this.writers.get(id);
    if (entry === undefined && this.unknownIds.has(id)) {
      throw new PoisonRecordError(
        PoisonReason.SchemaMismatch,
        `writer schema ${id} is not in the registry`,
      );
    }
    if (entry === undefined) {
      throw new DecStreamError(
        'SCHEMA_NOT_PREPARED',
        `writer schema ${id} was not loaded: await prepare() on the batch before decode()`,
      );
    }
    if ('mismatch' in entry) {
      throw new PoisonRecordError(PoisonReason.SchemaMismatch, entry.mismatch);
    }
    return decodeBody(this.schemas.inputType, bytes, wireHeaderBytes, entry.resolver, entry.blocks);
  }

  /**
   * With `source` written with the reader schema itself, the label is appended to its body; a
   * value written with another schema was resolved into the reader's, so the record is written
   * again with the reader schema.
   */
  encodeLabelled(record: Record<string, unknown>, label: Label, source?: Buffer | null): Buffer {
    const id = schemaIdOf(source ?? null);
    const entry = id === undefined ? undefined : this.writers.get(id);
    if (source != null && entry !== undefined && 'sameAsReader' in entry && entry.sameAsReader) {
      return this.writer.append(this.header, source, wireHeaderBytes, label);
    }
    return this.writer.write(this.header, record, label);
  }

  private async loadWriter(id: number, call: number): Promise<void> {
    let text: string;
    try {
      text = await this.registry.getSchema(id);
    } catch (error) {
      if (!(error instanceof SchemaNotFoundError)) throw error;
      this.unknownIds.set(id, call);
      return;
    }
    try {
      const writerType = avro.Type.forSchema(JSON.parse(text) as Schema);
      const resolver = this.schemas.inputType.createResolver(writerType);
      this.writers.set(id, {
        resolver,
        sameAsReader: writerType.equals(this.schemas.inputType),
        blocks: AvroBlockCheck.for(writerType),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.writers.set(id, {
        mismatch: `writer schema ${id} cannot be read with the reader schema (${reason})`,
      });
    }
  }
}

/** The schema id of a wire-format value, or undefined when the value is not in that format. */
export function schemaIdOf(value: Buffer | null): number | undefined {
  if (value === null || value.length < wireHeaderBytes || value[0] !== magicByte) return undefined;
  return value.readUInt32BE(1);
}
