import type { SchemaRegistry } from './schema-registry.js';
import { SchemaNotFoundError } from './schema-registry.js';

export interface StoredSchema {
  readonly id: number;
  readonly schema: string;
  readonly subject?: string;
}

/**
 * A schema registry held in memory, with ids chosen by the caller or handed out in order. Used
 * in tests (with fixed ids) and wherever no registry server runs.
 */
export class InMemorySchemaRegistry implements SchemaRegistry {
  private readonly byId = new Map<number, string>();
  private readonly subjects = new Map<string, number[]>();
  private nextId: number;

  constructor(preloaded: readonly StoredSchema[] = [], options: { firstId?: number } = {}) {
    this.nextId = options.firstId ?? 1;
    for (const s of preloaded) this.add(s.id, s.schema, s.subject);
  }

  getSchema(id: number): Promise<string> {
    const schema = this.byId.get(id);
    return schema === undefined
      ? Promise.reject(new SchemaNotFoundError(`schema id ${id} is not registered`))
      : Promise.resolve(schema);
  }

  register(subject: string, schema: string): Promise<number> {
    let id = [...this.byId].find(([, s]) => s === schema)?.[0];
    if (id === undefined) {
      id = this.nextId;
      while (this.byId.has(id)) id++;
    }
    this.add(id, schema, subject);
    return Promise.resolve(id);
  }

  getLatestSchema(subject: string): Promise<{ id: number; schema: string }> {
    const id = this.subjects.get(subject)?.at(-1);
    const schema = id === undefined ? undefined : this.byId.get(id);
    return id === undefined || schema === undefined
      ? Promise.reject(new SchemaNotFoundError(`subject ${subject} is not registered`))
      : Promise.resolve({ id, schema });
  }

  /** Ids registered under `subject`, oldest first. */
  versions(subject: string): readonly number[] {
    return this.subjects.get(subject) ?? [];
  }

  private add(id: number, schema: string, subject: string | undefined): void {
    this.byId.set(id, schema);
    this.nextId = Math.max(this.nextId, id + 1);
    if (subject === undefined) return;
    const ids = this.subjects.get(subject) ?? [];
    if (!ids.includes(id)) ids.push(id);
    this.subjects.set(subject, ids);
  }
}
