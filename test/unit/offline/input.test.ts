import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';

import { UsageError } from '../../../src/errors.js';
import { readAllRecords, readRecords, splitCsvLine } from '../../../src/offline/input.js';

async function fileWith(
  t: { after: (fn: () => Promise<void>) => void },
  name: string,
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dec-input-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

void test('splitCsvLine() honours quotes, doubled quotes and empty cells', () => {
  assert.deepEqual(splitCsvLine('a,"b,c","say ""hi""",,e'), ['a', 'b,c', 'say "hi"', '', 'e']);
  assert.throws(() => splitCsvLine('a,"open'), UsageError);
});

void test('CSV rows become records with numbers parsed, text kept and empty cells left out', async (t) => {
  const path = await fileWith(
    t,
    'data.csv',
    '\uFEFFf0, f1 ,name,point.x,point.y\r\n1,-2.5e1,a,3,4\r\n\r\n.5,,"x,y",0,NaN\r\n',
  );
  const records = [];
  for await (const item of readRecords(path)) records.push(item);
  assert.deepEqual(records, [
    { record: { f0: 1, f1: -25, name: 'a', point: { x: 3, y: 4 } }, line: 2 },
    { record: { f0: 0.5, name: 'x,y', point: { x: 0, y: Number.NaN } }, line: 4 },
  ]);
});

void test('a CSV row with the wrong number of cells names its line', async (t) => {
  const path = await fileWith(t, 'bad.csv', 'a,b\n1,2\n3\n');
  await assert.rejects(readAllRecords(path), /bad\.csv:3: expected 2 columns, found 1/);
});

void test('JSONL lines become objects; a non-object line names its line', async (t) => {
  const good = await fileWith(t, 'data.jsonl', '{"a":1,"v":[1,2]}\n\n{"a":2}\n');
  assert.deepEqual(await readAllRecords(good), [{ a: 1, v: [1, 2] }, { a: 2 }]);
  const bad = await fileWith(t, 'bad.jsonl', '{"a":1}\n[1,2]\n');
  await assert.rejects(readAllRecords(bad), /bad\.jsonl:2: expected a JSON object/);
});

void test('the format is sniffed from the first line when the extension says nothing', async (t) => {
  const json = await fileWith(t, 'data.txt', '{"a":1}\n');
  const csv = await fileWith(t, 'other.txt', 'a\n1\n');
  assert.deepEqual(await readAllRecords(json), [{ a: 1 }]);
  assert.deepEqual(await readAllRecords(csv), [{ a: 1 }]);
});

void test('- reads standard input', async () => {
  const stdin = Readable.from(['a,b\n', '1,2\n']);
  assert.deepEqual(await readAllRecords('-', { stdin }), [{ a: 1, b: 2 }]);
});

void test('a missing file or a directory is a UsageError', async (t) => {
  const path = await fileWith(t, 'x.csv', '');
  await assert.rejects(readAllRecords(`${path}.missing`), (e: unknown) => {
    return e instanceof UsageError && /no such file/.test(e.message);
  });
  await assert.rejects(readAllRecords(join(path, '..')), /is not a file/);
});

void test('CSV columns named like __proto__ or constructor.prototype become own fields and never reach Object.prototype', async () => {
  const stdin = Readable.from([
    '__proto__.polluted,constructor.prototype.polluted,toString.polluted,x\n',
    '1,2,3,4\n',
  ]);
  const records = await readAllRecords('-', { format: 'csv', stdin });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object as unknown as Record<string, unknown>).polluted, undefined);
  assert.equal(
    (Object.prototype.toString as unknown as Record<string, unknown>).polluted,
    undefined,
  );
  const record = records[0] as Record<string, Record<string, unknown>>;
  assert.equal(records.length, 1);
  assert.deepEqual(Object.keys(record), ['__proto__', 'constructor', 'toString', 'x']);
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(record, '__proto__')?.value, { polluted: 1 });
  assert.deepEqual(record.constructor, { prototype: { polluted: 2 } });
  assert.equal(
    JSON.stringify(record),
    '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"toString":{"polluted":3},"x":4}',
  );
});
