import type { SchemaRegistry } from '../codec/schema-registry.js';
import { SchemaNotFoundError } from '../codec/schema-registry.js';
import { DecStreamError } from '../errors.js';

export interface HttpSchemaRegistryOptions {
  /** Per-request limit; default 10 s. */
  readonly timeoutMs?: number;
  /** Replaces global fetch (tests, proxies). */
  readonly fetch?: typeof fetch;
}

const contentType = 'application/vnd.schemaregistry.v1+json';

/**
 * Confluent schema registry REST client on global fetch. Credentials in the URL
 * (`https://user:pass@host`) become a Basic Authorization header. 404 answers reject with
 * SchemaNotFoundError; network failures, 5xx and 429 reject with a retriable DecStreamError.
 */
export class HttpSchemaRegistry implements SchemaRegistry {
  private readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(url: string, options: HttpSchemaRegistryOptions = {}) {
    const parsed = new URL(url);
    this.authorization =
      parsed.username === ''
        ? undefined
        : `Basic ${Buffer.from(
            `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`,
          ).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.baseUrl = parsed.toString().replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  async getSchema(id: number): Promise<string> {
    const body = await this.request('GET', `/schemas/ids/${id}`);
    return schemaText(body, `schema ${id}`);
  }

  async register(subject: string, schema: string): Promise<number> {
    const body = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema,
    });
    return schemaId(body, `registration under ${subject}`);
  }

  async getLatestSchema(subject: string): Promise<{ id: number; schema: string }> {
    const body = await this.request(
      'GET',
      `/subjects/${encodeURIComponent(subject)}/versions/latest`,
    );
    return {
      id: schemaId(body, `latest schema of ${subject}`),
      schema: schemaText(body, `latest schema of ${subject}`),
    };
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: contentType };
    if (body !== undefined) headers['content-type'] = contentType;
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    let response: Response;
    try {
      response = await this.fetchFn(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DecStreamError('SCHEMA_REGISTRY_UNAVAILABLE', `${method} ${path} failed`, {
        retriable: true,
        cause: error,
      });
    }
    const text = await response.text();
    if (response.status === 404) {
      throw new SchemaNotFoundError(`${method} ${path}: ${registryMessage(text)}`);
    }
    if (!response.ok) {
      throw new DecStreamError(
        'SCHEMA_REGISTRY_HTTP',
        `${method} ${path}: HTTP ${response.status} ${registryMessage(text)}`,
        { retriable: response.status >= 500 || response.status === 429 },
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new DecStreamError('SCHEMA_REGISTRY_HTTP', `${method} ${path}: answer is not JSON`, {
        cause: error,
      });
    }
  }
}

function registryMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: show the text itself
  }
  return text.slice(0, 200);
}

function schemaText(body: unknown, what: string): string {
  const schema = (body as { schema?: unknown } | null)?.schema;
  if (typeof schema !== 'string') {
    throw new DecStreamError('SCHEMA_REGISTRY_HTTP', `${what}: answer has no schema`);
  }
  return schema;
}

function schemaId(body: unknown, what: string): number {
  const id = (body as { id?: unknown } | null)?.id;
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new DecStreamError('SCHEMA_REGISTRY_HTTP', `${what}: answer has no id`);
  }
  return id;
}
