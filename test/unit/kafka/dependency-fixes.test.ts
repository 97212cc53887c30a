import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EncodedHeaders, withEncodedHeaders } from '../../../src/kafka/encoded-headers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nodeModules = join(root, 'node_modules');
const load = createRequire(import.meta.url);
const patchFile = join(root, 'patches', 'kafkajs+2.2.4.patch');

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
  writeBufferInternal(value: Buffer): void;
  readonly buf: Buffer;
  readonly buffer: Buffer;
}
type EncoderClass = (new (initialSize?: number) => KafkajsEncoder) & {
  readonly prototype: {
    writeEncoderArray: (this: KafkajsEncoder, value: unknown[]) => KafkajsEncoder;
  };
};

/** One hunk of a unified diff: where it lands in the patched file and the lines it leaves there. */
interface Hunk {
  readonly newStart: number;
  readonly newLines: readonly string[];
}

/** The files a patch-package patch changes (paths under node_modules) and their hunks. */
function readPatch(text: string): Map<string, Hunk[]> {
  const files = new Map<string, Hunk[]>();
  let hunks: Hunk[] | undefined;
  let lines: string[] | undefined;
  for (const line of text.split('\n')) {
    const file = /^\+\+\+ b\/node_modules\/(.+)$/.exec(line);
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (file !== null) {
      hunks = [];
      files.set(file[1] as string, hunks);
      lines = undefined;
    } else if (hunk !== null && hunks !== undefined) {
      lines = [];
      hunks.push({ newStart: Number(hunk[1]), newLines: lines });
    } else if (lines !== undefined && (line.startsWith(' ') || line.startsWith('+'))) {
      lines.push(line.slice(1));
    } else if (line.startsWith('diff --git')) {
      lines = undefined;
    }
  }
  return files;
}

void test('kafkajs is pinned at 2.2.4 and patches/kafkajs+2.2.4.patch is applied to its installed files', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
  assert.equal(manifest.dependencies['kafkajs'], '2.2.4');
  assert.match(manifest.scripts['postinstall'] ?? '', /^patch-package --error-on-fail$/);
  const installed = JSON.parse(
    readFileSync(join(nodeModules, 'kafkajs', 'package.json'), 'utf8'),
  ) as { version: string };
  assert.equal(installed.version, '2.2.4');

  const files = readPatch(readFileSync(patchFile, 'utf8'));
  assert.deepEqual([...files.keys()].sort(), [
    'kafkajs/src/index.js',
    'kafkajs/src/producer/groupMessagesPerPartition.js',
    'kafkajs/src/protocol/encoder.js',
    'kafkajs/src/protocol/recordBatch/record/v0/index.js',
    'kafkajs/types/index.d.ts',
  ]);
  for (const [path, hunks] of files) {
    assert.ok(hunks.length > 0, path);
    const lines = readFileSync(join(nodeModules, path), 'utf8').split('\n');
    for (const { newStart, newLines } of hunks) {
      // Each hunk's result sits where the patch puts it: the installed file is the patched one.
      assert.deepEqual(
        lines.slice(newStart - 1, newStart - 1 + newLines.length),
        newLines,
        `${path}, hunk at line ${newStart}`,
      );
    }
  }
});

void test("kafkajs's grouping takes one pass: it never copies a partition's list per message", () => {
  const group = load(
    join(nodeModules, 'kafkajs/src/producer/groupMessagesPerPartition.js'),
  ) as Grouping;
  const messages = Array.from({ length: 1_000 }, (_, i) => ({ key: `k${i}` }));
  // The quadratic reduce built each partition's list anew for every message with
  // `[...current, message]`: one array iteration per message, half a million slots copied here.
  // Counting iterations makes the check exact instead of timed.
  const iterate = Array.prototype[Symbol.iterator];
  let iterations = 0;
  Array.prototype[Symbol.iterator] = function (this: unknown[]) {
    iterations++;
    return iterate.call(this);
  };
  let grouped: Record<number, Message[]>;
  try {
    grouped = group({ topic: 'out', partitionMetadata: [{}], messages, partitioner: () => 0 });
  } finally {
    Array.prototype[Symbol.iterator] = iterate;
  }
  assert.equal(grouped[0]?.length, messages.length);
  assert.ok(iterations < 10, `${iterations} array iterations for ${messages.length} messages`);
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
  // Small buffers come from Node's shared pool (Buffer.alloc would give each its own memory), on
  // construction and when the encoder grows.
  assert.equal(new Encoder().buf.buffer.byteLength, Buffer.poolSize);
  assert.equal(new Encoder(8).writeBytes(Buffer.alloc(100)).buf.buffer.byteLength, Buffer.poolSize);
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
  // Headers are written by the record's encoder, not encoded each by one of its own and then
  // copied in (kafkajs's writeVarIntArray of Header encoders).
  const Encoder = load(join(nodeModules, 'kafkajs/src/protocol/encoder.js')) as EncoderClass;
  const writeEncoderArray = Encoder.prototype.writeEncoderArray;
  Encoder.prototype.writeEncoderArray = () => assert.fail('a header was encoded on its own');
  let bytes: Buffer;
  try {
    bytes = encodeRecord({
      offsetDelta: 1,
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: { h: Buffer.from('x'), m: ['a', Buffer.from('b')] },
    }).buffer;
  } finally {
    Encoder.prototype.writeEncoderArray = writeEncoderArray;
  }
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
  // In place: no varint goes through a Buffer of its own and writeBufferInternal.
  const inPlace = (): KafkajsEncoder => {
    const encoder = new Encoder();
    encoder.writeBufferInternal = () => assert.fail('a varint was copied in');
    return encoder;
  };
  const varint = (value: number): number[] => [...inPlace().writeVarInt(value).buffer];
  assert.deepEqual(varint(0), [0]);
  assert.deepEqual(varint(-1), [1]);
  assert.deepEqual(varint(63), [126]);
  assert.deepEqual(varint(64), [0x80, 0x01]);
  assert.deepEqual(varint(300), [0xd8, 0x04]);
  assert.deepEqual(varint(2 ** 31 - 1), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(varint(-(2 ** 31)), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  const varlong = (value: number | string): number[] => [...inPlace().writeVarLong(value).buffer];
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
