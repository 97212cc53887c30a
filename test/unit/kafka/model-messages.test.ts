import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ModelAssembler,
  modelMessages,
  parseModelKey,
  versionTombstones,
} from '../../../src/kafka/model-messages.js';
import type { ModelManifest } from '../../../src/kafka/model-messages.js';
import { chooseTrainer } from '../../../src/kafka/kafka-trainer-election.js';

const bytes = Uint8Array.from({ length: 25 }, (_, i) => i * 7);

void test('modelMessages() cuts a version into chunks no larger than the limit, then one manifest', () => {
  const messages = modelMessages(3, '2026-01-01T00:00:00.000Z', bytes, 10);
  assert.deepEqual(
    messages.map((m) => m.key),
    ['v000000003/chunk/0', 'v000000003/chunk/1', 'v000000003/chunk/2', 'v000000003/manifest'],
  );
  assert.deepEqual(
    messages.slice(0, 3).map((m) => m.value?.length),
    [10, 10, 5],
  );
  const manifest = JSON.parse((messages[3]?.value as Buffer).toString()) as ModelManifest;
  assert.equal(manifest.chunks, 3);
  assert.equal(manifest.bytes, 25);
  assert.deepEqual(parseModelKey('v000000003/chunk/2'), { kind: 'chunk', version: 3, index: 2 });
  assert.equal(parseModelKey('something else'), undefined);
});

void test('ModelAssembler gives back the bytes of a version once its manifest follows its chunks', () => {
  const assembler = new ModelAssembler();
  const results = modelMessages(1, 'now', bytes, 8).map((m) => assembler.add(m));
  const last = results.pop();
  assert.ok(results.every((r) => r === undefined));
  assert.ok(last?.ok === true);
  assert.deepEqual(new Uint8Array(last.bytes), bytes);
});

void test('ModelAssembler rejects a truncated chunk, a missing chunk and a bad manifest, and says why', () => {
  const messages = modelMessages(2, 'now', bytes, 8);
  const truncated = new ModelAssembler();
  const cut = messages.map((m, i) =>
    i === 1 ? { ...m, value: (m.value as Buffer).subarray(0, 3) } : m,
  );
  assert.deepEqual(cut.map((m) => truncated.add(m)).pop(), {
    ok: false,
    version: 2,
    reason: 'checksum',
  });

  const missing = new ModelAssembler();
  assert.deepEqual(
    messages
      .filter((_, i) => i !== 0)
      .map((m) => missing.add(m))
      .pop(),
    { ok: false, version: 2, reason: 'missing-chunk' },
  );

  const garbled = new ModelAssembler();
  assert.deepEqual(garbled.add({ key: 'v000000002/manifest', value: Buffer.from('{not json') }), {
    ok: false,
    version: 2,
    reason: 'bad-manifest',
  });
});

void test('tombstones name every key of a version, and the assembler forgets what they name', () => {
  const messages = modelMessages(4, 'now', bytes, 10);
  const manifest = JSON.parse((messages[3]?.value as Buffer).toString()) as ModelManifest;
  const tombstones = versionTombstones(manifest);
  assert.deepEqual(
    tombstones.map((m) => [m.key, m.value]),
    messages.map((m) => [m.key, null]),
  );
  const assembler = new ModelAssembler();
  for (const m of messages.slice(0, 3)) assembler.add(m);
  for (const m of tombstones.slice(0, 3)) assembler.add(m);
  assert.deepEqual(assembler.add(messages[3]!), { ok: false, version: 4, reason: 'missing-chunk' });
});

void test('chooseTrainer() keeps the role with the member that holds it, else the first member id', () => {
  assert.equal(
    chooseTrainer([
      { memberId: 'b', trains: false },
      { memberId: 'c', trains: true },
      { memberId: 'a', trains: false },
    ]),
    'c',
  );
  assert.equal(
    chooseTrainer([
      { memberId: 'b', trains: false },
      { memberId: 'a', trains: false },
    ]),
    'a',
  );
  assert.equal(chooseTrainer([]), undefined);
});
