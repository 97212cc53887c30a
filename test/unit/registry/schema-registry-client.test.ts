import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SchemaNotFoundError } from '../../../src/codec/schema-registry.js';
import { DecStreamError } from '../../../src/errors.js';
import { HttpSchemaRegistry } from '../../../src/registry/schema-registry-client.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

const seen: Seen[] = [];
const schema = '{"type":"record","name":"R","fields":[]}';

function answer(req: IncomingMessage, res: ServerResponse): void {
  const send = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'GET' && req.url === '/schemas/ids/7') return send(200, { schema });
  if (req.method === 'GET' && req.url === '/schemas/ids/8') {
    return send(404, { error_code: 40403, message: 'Schema not found' });
  }
  if (req.method === 'GET' && req.url === '/schemas/ids/9') return send(503, { message: 'busy' });
  if (req.method === 'POST' && req.url === '/subjects/out-value/versions') {
    return send(200, { id: 21 });
  }
  if (req.method === 'GET' && req.url === '/subjects/in-value/versions/latest') {
    return send(200, { subject: 'in-value', version: 3, id: 7, schema });
  }
  return send(404, { error_code: 40401, message: 'Subject not found' });
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
    });
    answer(req, res);
  });
});
let base = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

void test('getSchema, register and getLatestSchema speak the registry REST API', async () => {
  const registry = new HttpSchemaRegistry(`${base}/`);
  assert.equal(await registry.getSchema(7), schema);
  assert.equal(await registry.register('out-value', schema), 21);
  assert.deepEqual(await registry.getLatestSchema('in-value'), { id: 7, schema });
  const post = seen.find((s) => s.method === 'POST');
  assert.equal(post?.contentType, 'application/vnd.schemaregistry.v1+json');
  assert.deepEqual(JSON.parse(post?.body ?? ''), { schema });
});

void test('credentials in the URL become a Basic authorization header', async () => {
  const url = new URL(base);
  url.username = 'dec';
  url.password = 'p@ss';
  await new HttpSchemaRegistry(url.toString()).getSchema(7);
  assert.equal(seen.at(-1)?.authorization, `Basic ${Buffer.from('dec:p@ss').toString('base64')}`);
});

void test('a 404 rejects with SchemaNotFoundError and a 503 with a retriable error', async () => {
  const registry = new HttpSchemaRegistry(base);
  await assert.rejects(registry.getSchema(8), SchemaNotFoundError);
  await assert.rejects(registry.getLatestSchema('nope-value'), SchemaNotFoundError);
  await assert.rejects(
    registry.getSchema(9),
    (error: unknown) =>
      error instanceof DecStreamError && error.retriable && /503/.test(error.message),
  );
});

void test('an unreachable registry rejects with a retriable error', async () => {
  const registry = new HttpSchemaRegistry('http://127.0.0.1:1', { timeoutMs: 2000 });
  await assert.rejects(
    registry.getSchema(7),
    (error: unknown) =>
      error instanceof DecStreamError &&
      error.code === 'SCHEMA_REGISTRY_UNAVAILABLE' &&
      error.retriable,
  );
});
