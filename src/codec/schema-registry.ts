import { DecStreamError } from '../errors.js';

/** The part of a Confluent-compatible schema registry dec-stream uses. Schemas are JSON text. */
export interface SchemaRegistry {
  /** Rejects with SchemaNotFoundError when no schema has this id. */
  getSchema(id: number): Promise<string>;
  /** Registers (or finds) `schema` under `subject` and resolves its global id. */
  register(subject: string, schema: string): Promise<number>;
  /** Newest schema of `subject`; rejects with SchemaNotFoundError when the subject is unknown. */
  getLatestSchema(subject: string): Promise<{ id: number; schema: string }>;
}

/** The registry answered that the schema or subject does not exist: not worth retrying. */
export class SchemaNotFoundError extends DecStreamError {
  constructor(message: string) {
    super('SCHEMA_NOT_FOUND', message);
  }
}

/** Subject of a topic's value schema (Confluent TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
