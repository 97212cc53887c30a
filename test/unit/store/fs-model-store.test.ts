import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { FsModelStore } from '../../../src/store/fs-model-store.js';
import { tinySnapshot } from './tiny-snapshot.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dec-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

void test('save() writes one file per version and leaves no temporary files behind', async (t) => {
  const dir = await tempDir(t);
  const store = new FsModelStore(join(dir, 'models'));
  await store.save(tinySnapshot(1));
  await store.save(tinySnapshot(42));
  assert.deepEqual((await readdir(join(dir, 'models'))).sort(), [
    'model-000001.decsnap',
    'model-000042.decsnap',
  ]);
  assert.deepEqual(await store.list(), [
    { version: 1, createdAt: '2026-01-02T03:04:05.678Z' },
    { version: 42, createdAt: '2026-01-02T03:04:05.678Z' },
  ]);
  assert.deepEqual(await store.loadLatest(), tinySnapshot(42));
});

void test('save() keeps only the newest N versions and clears stale temporary files', async (t) => {
  const dir = await tempDir(t);
  const store = new FsModelStore(dir, { keep: 3 });
  const stale = join(dir, '.model-9.123.abcd1234.tmp');
  const fresh = join(dir, '.model-9.124.abcd1234.tmp');
  await writeFile(stale, 'x');
  await writeFile(fresh, 'x');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(stale, twoHoursAgo, twoHoursAgo);
  for (let v = 1; v <= 6; v++) await store.save(tinySnapshot(v));
  assert.deepEqual(await store.versions(), [4, 5, 6]);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
    ['.model-9.124.abcd1234.tmp'],
  );
});

void test('a save that fails midway leaves the previous version in place and no temporary file', async (t) => {
  const dir = await tempDir(t);
  const store = new FsModelStore(dir);
  await store.save(tinySnapshot(1));
  const broken = {
    ...tinySnapshot(2),
    standardisation: { mean: new Float32Array(1), std: new Float32Array(1) },
  };
  await assert.rejects(store.save(broken));
  assert.deepEqual(await readdir(dir), ['model-000001.decsnap']);
});

void test('loadLatest() skips and logs a corrupted newest file and returns the previous version', async (t) => {
  const dir = await tempDir(t);
  const messages: string[] = [];
  const store = new FsModelStore(dir, { log: (m) => messages.push(m) });
  await store.save(tinySnapshot(1));
  await store.save(tinySnapshot(2));
  const newest = store.fileFor(2);
  const bytes = await readFile(newest);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
  await writeFile(newest, bytes);
  const loaded = await store.loadLatest();
  assert.equal(loaded?.version, 1);
  assert.equal(messages.length, 1);
  assert.match(messages[0] as string, /model-000002\.decsnap.*checksum/);
});

void test('loadLatest() returns undefined for a missing or empty directory, or only corrupted files', async (t) => {
  const dir = await tempDir(t);
  assert.equal(await new FsModelStore(join(dir, 'absent')).loadLatest(), undefined);
  assert.deepEqual(await new FsModelStore(join(dir, 'absent')).list(), []);
  await writeFile(join(dir, 'model-000007.decsnap'), 'garbage');
  const messages: string[] = [];
  const store = new FsModelStore(dir, { log: (m) => messages.push(m) });
  assert.equal(await store.loadLatest(), undefined);
  assert.equal(messages.length, 1);
});
