import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { ConfigError } from '../errors.js';
import type { OutputDetail } from './record-codec.js';
import { DetailField, LabelField } from './record-codec.js';

/** The reader schema's type and the labelled output schema derived from it. */
export interface LabelledSchemas {
  readonly inputType: Type;
  /**
   * Input schema + cluster:int, confidence:double, model_version:long, named `<Name>Labelled`;
   * with output detail 'full', runner_up:int and margin:double before model_version.
   */
  readonly outputSchema: Readonly<Record<string, unknown>>;
  readonly outputType: Type;
}

/**
 * Parses a record schema (text of an .avsc or the parsed object) and derives the output schema.
 * A schema that is not a valid Avro record, or that already has a label field, is a ConfigError
 * reported against `setting`.
 */
export function labelledSchemas(
  schema: string | Schema,
  setting = 'DEC_AVRO_SCHEMA',
  outputDetail: OutputDetail = 'basic',
): LabelledSchemas {
  let inputType: Type;
  try {
    inputType = avro.Type.forSchema(
      typeof schema === 'string' ? (JSON.parse(schema) as Schema) : schema,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: setting, message: `is not a valid Avro schema (${reason})` }]);
  }
  const input = inputType.schema({ exportAttrs: true }) as Record<string, unknown>;
  if (input.type !== 'record' || typeof input.name !== 'string' || !Array.isArray(input.fields)) {
    throw new ConfigError([{ path: setting, message: 'must be an Avro record schema' }]);
  }
  const fields = input.fields as { name: string }[];
  const labelNames: string[] = [
    ...Object.values(LabelField),
    ...(outputDetail === 'full' ? Object.values(DetailField) : []),
  ];
  const clash = fields.find((f) => labelNames.includes(f.name));
  if (clash !== undefined) {
    throw new ConfigError([
      { path: setting, message: `already has a field named ${clash.name}, which dec-stream adds` },
    ]);
  }
  const outputSchema = {
    ...input,
    name: `${input.name}Labelled`,
    fields: [
      ...fields,
      { name: LabelField.Cluster, type: 'int', doc: 'DEC cluster index' },
      { name: LabelField.Confidence, type: 'double', doc: 'Soft assignment q of that cluster' },
      ...(outputDetail === 'full'
        ? [
            { name: DetailField.RunnerUp, type: 'int', doc: 'The second most likely cluster' },
            {
              name: DetailField.Margin,
              type: 'double',
              doc: 'q of the cluster minus q of the runner-up',
            },
          ]
        : []),
      { name: LabelField.ModelVersion, type: 'long', doc: 'Model version that assigned it' },
    ],
  };
  return { inputType, outputSchema, outputType: outputTypeOf(outputSchema, input, setting) };
}

/**
 * The output schema's type. It renames the record, so a record that refers to itself by name (a
 * recursive type) has no definition left for that reference: a ConfigError that says so.
 */
function outputTypeOf(
  outputSchema: Record<string, unknown>,
  input: Record<string, unknown>,
  setting: string,
): Type {
  try {
    return avro.Type.forSchema(outputSchema as Schema);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const name = String(input.name);
    const recursive = JSON.stringify(input.fields).includes(JSON.stringify(name));
    throw new ConfigError([
      {
        path: setting,
        message: recursive
          ? `record ${name} refers to itself (a recursive type), which the labelled output schema cannot extend; give the features a record without recursion`
          : `cannot be extended with the label fields (${reason})`,
      },
    ]);
  }
}
