import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DependencyFix } from '../../../scripts/patch-dependencies.mjs';
import { applyFix, fixes, linearGrouping } from '../../../scripts/patch-dependencies.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nodeModules = join(root, 'node_modules');
const load = createRequire(import.meta.url);

interface Message {
  readonly key: string;
}
type Grouping = (args: {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;

interface KafkajsEncoder {
  writeInt32(value: number): KafkajsEncoder;
  writeVarIntString(value: string): KafkajsEncoder;
  writeBytes(value: Buffer): KafkajsEncoder;
  readonly buffer: Buffer;
}
type EncoderClass = new (initialSize?: number) => KafkajsEncoder;

void test('every kafkajs fix is in place in the installed dependencies', () => {
  assert.ok(fixes.length >= 2);
  for (const fix of fixes) assert.equal(applyFix(nodeModules, fix), 'present', fix.name);
  const groupingPath = join(nodeModules, (fixes[0] as DependencyFix).path);
  assert.equal(readFileSync(groupingPath, 'utf8'), linearGrouping);
});

void test("kafkajs's grouping puts each message under its partition, in the order given", () => {
  const group = load(
    join(nodeModules, 'kafkajs/src/producer/groupMessagesPerPartition.js'),
  ) as Grouping;
  const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}` }));
  const partitionOf = (m: Message): number => Number(m.key.slice(1)) % 3;
  const grouped = group({
    topic: 'out',
    partitionMetadata: [{}, {}, {}],
    messages,
    partitioner: ({ message }) => partitionOf(message),
  });
  assert.deepEqual(Object.keys(grouped).sort(), ['0', '1', '2']);
  for (const partition of [0, 1, 2]) {
    assert.deepEqual(
      grouped[partition],
      messages.filter((m) => partitionOf(m) === partition),
    );
  }
  assert.deepEqual(
    group({ topic: 'out', partitionMetadata: [], messages, partitioner: () => 0 }),
    {},
  );
});

void test("kafkajs's encoder, on pooled buffers, gives exactly the bytes written, also after it grows", () => {
  const Encoder = load(join(nodeModules, 'kafkajs/src/protocol/encoder.js')) as EncoderClass;
  // Dirty the pool first: stale bytes must never show through.
  Buffer.allocUnsafe(4000).fill(0xee);
  const small = new Encoder().writeInt32(1).writeVarIntString('ab').buffer;
  // Int32 big-endian 1, then the zig-zag varint of length 2 (4) and the two characters.
  assert.deepEqual([...small], [0, 0, 0, 1, 4, 0x61, 0x62]);
  const payload = Buffer.alloc(3000, 7);
  const grown = new Encoder(8).writeInt32(-1).writeBytes(payload).buffer;
  assert.equal(grown.length, 4 + 4 + 3000);
  assert.deepEqual([...grown.subarray(0, 8)], [0xff, 0xff, 0xff, 0xff, 0, 0, 0x0b, 0xb8]);
  assert.ok(grown.subarray(8).every((b) => b === 7));
});

void test('a fix leaves a file it was not written for alone, and a missing file too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patch-deps-'));
  try {
    for (const fix of fixes) {
      assert.equal(applyFix(dir, fix), 'absent');
      const path = join(dir, fix.path);
      mkdirSync(dirname(path), { recursive: true });
      const other = 'module.exports = () => ({})\n';
      writeFileSync(path, other);
      assert.equal(applyFix(dir, fix), 'unknown-version');
      assert.equal(readFileSync(path, 'utf8'), other);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
