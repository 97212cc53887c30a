import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DependencyFix } from '../../../scripts/patch-dependencies.mjs';
import { applyFix, fixes, linearGrouping } from '../../../scripts/patch-dependencies.mjs';
import { EncodedHeaders, withEncodedHeaders } from '../../../src/kafka/encoded-headers.js';

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
  writeVarInt(value: number): KafkajsEncoder;
  writeVarLong(value: number | string): KafkajsEncoder;
  writeVarIntString(value: string): KafkajsEncoder;
  writeBytes(value: Buffer): KafkajsEncoder;
  readonly buffer: Buffer;
}
type EncoderClass = new (initialSize?: number) => KafkajsEncoder;

void test('every kafkajs fix is in place in the installed dependencies', () => {
  assert.ok(fixes.length >= 3);
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

type RecordEncoder = (record: {
  offsetDelta?: number;
  timestampDelta?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[]>;
}) => KafkajsEncoder;

interface KafkajsDecoder {
  readonly offset: number;
  readVarInt(): number;
}
type DecoderClass = new (buffer: Buffer) => KafkajsDecoder;
type RecordDecoder = (
  decoder: KafkajsDecoder,
  batch: { firstOffset: string; firstTimestamp: string; magicByte: number },
) => { key: Buffer; value: Buffer; offset: string; headers: Record<string, Buffer | Buffer[]> };

void test("kafkajs's record encoder writes its headers in place, byte for byte as the protocol says", () => {
  const encodeRecord = load(
    join(nodeModules, 'kafkajs/src/protocol/recordBatch/record/v0/index.js'),
  ) as RecordEncoder;
  const bytes = encodeRecord({
    offsetDelta: 1,
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: { h: Buffer.from('x'), m: ['a', Buffer.from('b')] },
  }).buffer;
  // Varints are zig-zag: n is written as 2n. Body length 20, attributes, timestamp delta 0,
  // offset delta 1, key and value of one byte, three headers (a list header is one per value),
  // each a one-byte key and a one-byte value.
  const header = (key: string, value: string): number[] => [
    2,
    key.charCodeAt(0),
    2,
    value.charCodeAt(0),
  ];
  assert.deepEqual(
    [...bytes],
    [
      40,
      0,
      0,
      2,
      2,
      0x6b,
      2,
      0x76,
      6,
      ...header('h', 'x'),
      ...header('m', 'a'),
      ...header('m', 'b'),
    ],
  );

  // Kafkajs's own decoder reads back what it wrote, also for records with no headers at all.
  const Decoder = load(join(nodeModules, 'kafkajs/src/protocol/decoder.js')) as DecoderClass;
  const decodeRecord = load(
    join(nodeModules, 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js'),
  ) as RecordDecoder;
  const batch = { firstOffset: '100', firstTimestamp: '0', magicByte: 2 };
  const headerSets: Record<string, Buffer>[] = [
    {},
    { 'dec-model-version': Buffer.from('7'), trace: Buffer.alloc(300, 1) },
  ];
  for (const headers of headerSets) {
    const encoded = encodeRecord({
      offsetDelta: 5,
      key: Buffer.from('key'),
      value: Buffer.alloc(600, 2),
      headers,
    }).buffer;
    const decoder = new Decoder(encoded);
    const length = decoder.readVarInt();
    assert.equal(decoder.offset + length, encoded.length);
    const record = decodeRecord(decoder, batch);
    assert.equal(record.offset, '105');
    assert.equal(record.key.toString(), 'key');
    assert.deepEqual(record.value, Buffer.alloc(600, 2));
    assert.deepEqual(record.headers, headers);
  }
});

void test("kafkajs's record encoder copies headers that carry their encoding: the same bytes", () => {
  const encodeRecord = load(
    join(nodeModules, 'kafkajs/src/protocol/recordBatch/record/v0/index.js'),
  ) as RecordEncoder;
  const headerSets: Record<string, Buffer | string | (Buffer | string)[]>[] = [
    {},
    { 'dec-model-version': Buffer.from('7') },
    { trace: 'abc', multi: ['one', Buffer.from('two')], long: Buffer.alloc(300, 9) },
  ];
  for (const headers of headerSets) {
    const record = { offsetDelta: 3, key: Buffer.from('k'), value: Buffer.alloc(500, 1) };
    const plain = encodeRecord({ ...record, headers }).buffer;
    const shared = withEncodedHeaders(headers);
    assert.deepEqual(encodeRecord({ ...record, headers: { ...shared } }).buffer, plain);
    assert.deepEqual(encodeRecord({ ...record, headers: shared }).buffer, plain);
  }
  // The encoding carried is what is written, not the keys: a marked object is trusted.
  const marked = { a: 'b' };
  Object.defineProperty(marked, EncodedHeaders, { value: Buffer.from([0]) });
  const written = encodeRecord({ key: null, value: null, headers: marked }).buffer;
  assert.equal(written[written.length - 1], 0, 'no headers written');
});

void test("kafkajs's encoder writes varints in place, as zig-zag LEB128, also across a buffer's end", () => {
  const Encoder = load(join(nodeModules, 'kafkajs/src/protocol/encoder.js')) as EncoderClass;
  Buffer.allocUnsafe(4000).fill(0xee);
  // Zig-zag maps 0, -1, 1, -2, ... to 0, 1, 2, 3, ...; then seven bits a byte, low bits first,
  // the high bit set on every byte but the last.
  const varint = (value: number): number[] => [...new Encoder().writeVarInt(value).buffer];
  assert.deepEqual(varint(0), [0]);
  assert.deepEqual(varint(-1), [1]);
  assert.deepEqual(varint(63), [126]);
  assert.deepEqual(varint(64), [0x80, 0x01]);
  assert.deepEqual(varint(300), [0xd8, 0x04]);
  assert.deepEqual(varint(2 ** 31 - 1), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(varint(-(2 ** 31)), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  const varlong = (value: number | string): number[] => [
    ...new Encoder().writeVarLong(value).buffer,
  ];
  assert.deepEqual(varlong(0), [0]);
  assert.deepEqual(varlong(-1), [1]);
  assert.deepEqual(varlong(2 ** 40), [0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
  assert.deepEqual(varlong('-9223372036854775808'), [...Array<number>(9).fill(0xff), 0x01]);

  // Many varints through an encoder that starts at eight bytes: each write past its end grows it.
  const values = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : -1) * 37 ** (i % 6));
  const grown = new Encoder(8);
  for (const value of values) grown.writeVarInt(value).writeVarLong(value);
  const Decoder = load(join(nodeModules, 'kafkajs/src/protocol/decoder.js')) as new (
    buffer: Buffer,
  ) => {
    readVarInt(): number;
    readVarLong(): { toNumber(): number };
    canReadBytes(n: number): boolean;
  };
  const decoder = new Decoder(grown.buffer);
  for (const value of values) {
    assert.equal(decoder.readVarInt(), value);
    assert.equal(decoder.readVarLong().toNumber(), value);
  }
  assert.equal(decoder.canReadBytes(1), false);
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
