/**
 * A codec as plain data, so that a labelling thread can build its own copy: worker threads share
 * no objects, only what the structured clone algorithm copies.
 */
import { AvroCodec } from '../../codec/avro-codec.js';
import { ConfluentAvroCodec } from '../../codec/confluent-avro-codec.js';
import { JsonCodec } from '../../codec/json-codec.js';
import type { OutputDetail, RecordCodec } from '../../codec/record-codec.js';
import type { SchemaRegistry } from '../../codec/schema-registry.js';

export type CodecDescription = (
  | { readonly format: 'json' }
  | { readonly format: 'avro'; readonly schema: string }
  | {
      readonly format: 'confluent-avro';
      readonly registryUrl: string;
      /** The reader schema the main thread resolved, as JSON text: both threads read alike. */
      readonly readerSchema: string;
      readonly inputTopic: string;
      readonly outputTopic: string;
    }
) & {
  /** What labelled records carry (DEC_OUTPUT_DETAIL); default 'basic'. */
  readonly outputDetail?: OutputDetail;
};

/** Builds the client of the schema registry at `url` (the thread's entry module chooses which). */
export type SchemaRegistryFactory = (url: string) => SchemaRegistry;

/**
 * A codec equal to the one described. The Confluent codec registers the output schema again,
 * which the registry answers with the id it already gave.
 */
export async function codecFromDescription(
  description: CodecDescription,
  registryAt: SchemaRegistryFactory,
): Promise<RecordCodec> {
  const outputDetail = description.outputDetail ?? 'basic';
  switch (description.format) {
    case 'json':
      return new JsonCodec({ outputDetail });
    case 'avro':
      return new AvroCodec(description.schema, outputDetail);
    case 'confluent-avro':
      return ConfluentAvroCodec.create({
        registry: registryAt(description.registryUrl),
        readerSchema: description.readerSchema,
        inputTopic: description.inputTopic,
        outputTopic: description.outputTopic,
        outputDetail,
      });
  }
}
