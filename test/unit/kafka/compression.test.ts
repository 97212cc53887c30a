import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import type { CompressionTypes as CodecType } from 'kafkajs';
import type { KafkaCodec } from '../../../src/kafka/compression.js';
import {
  lastMatchTooLate,
  compressionType,
  lz4Codec,
  lz4Compress,
  lz4Decompress,
  registerCompressionCodecs,
  snappyCodec,
  snappyCompress,
  snappyDecompress,
  zstdCodec,
  zstdCompress,
  zstdDecompress,
} from '../../../src/kafka/compression.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * payload.txt (34 KB of JSON lines) compressed by the Java client's own classes (Kafka 4.4's
 * `Compression.wrapForOutput`, and snappy-java's raw `Snappy.compress` for the unframed form);
 * `test/java/JavaClient.java fixtures test/fixtures/compression` writes them again.
 */
const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../fixtures/compression/${name}`, import.meta.url));
const payload = fixture('payload.txt');

const samples: readonly [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([7])],
  ['a JSON record', Buffer.from('{"f0":1.5,"f1":-2,"cluster":3,"confidence":0.91}')],
  ['34 KB of records', payload],
  ['incompressible bytes', Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251))],
];

test('snappyDecompress() reads the Java client’s framed snappy, whose 34 KB span two blocks', () => {
  const framed = fixture('payload.snappy');
  assert.equal(framed.subarray(1, 7).toString('latin1'), 'SNAPPY');
  assert.deepEqual(snappyDecompress(framed), payload);
});

test('snappyDecompress() reads one raw snappy block, as librdkafka writes it', () => {
  assert.deepEqual(snappyDecompress(fixture('payload.snappy-raw')), payload);
});

test('snappyDecompress() rejects a framed stream cut inside a block', () => {
  const framed = fixture('payload.snappy');
  assert.throws(() => snappyDecompress(framed.subarray(0, framed.length - 10)), /truncated/);
});

test('lz4Decompress() reads the LZ4 frame the Java client writes (64 KB independent blocks)', () => {
  assert.deepEqual(lz4Decompress(fixture('payload.lz4')), payload);
});

test('zstdDecompress() reads the Java client’s streamed zstd frame, which declares no size', () => {
  const frame = fixture('payload.zstd');
  // Frame header descriptor: no content-size field, so a decoder must grow its output.
  assert.equal((frame[4] as number) >> 6, 0);
  assert.deepEqual(zstdDecompress(frame), payload);
});

test('snappyCompress() writes snappy-java’s framing in 32 KiB blocks', () => {
  const framed = snappyCompress(payload);
  assert.deepEqual(framed.subarray(0, 16), fixture('payload.snappy').subarray(0, 16));
  const firstBlock = framed.readInt32BE(16);
  assert.ok(framed.length > 16 + 4 + firstBlock + 4, 'a second block follows the first');
});

test('lz4Compress() writes the frame header of Kafka’s own writer: independent 64 KiB blocks', () => {
  assert.deepEqual(lz4Compress(payload).subarray(0, 7), fixture('payload.lz4').subarray(0, 7));
});

for (const [name, input] of samples) {
  test(`each codec gives back ${name} unchanged`, async () => {
    assert.deepEqual(snappyDecompress(snappyCompress(input)), input);
    assert.deepEqual(lz4Decompress(lz4Compress(input)), input);
    assert.deepEqual(zstdDecompress(await zstdCompress(input)), input);
  });
}

test('zstdCompress() writes a standard frame with Kafka’s default level', async () => {
  const frame = await zstdCompress(payload);
  assert.deepEqual(frame.subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  assert.ok(frame.length < fixture('payload.lz4').length, 'level 3 beats lz4 on this text');
});

test('registerCompressionCodecs() gives kafkajs snappy, lz4 and zstd and keeps its gzip', async () => {
  const gzip: unknown = CompressionCodecs[CompressionTypes.GZIP]();
  registerCompressionCodecs();
  registerCompressionCodecs();
  const registered: [CodecType.Snappy | CodecType.LZ4 | CodecType.ZSTD, KafkaCodec][] = [
    [CompressionTypes.Snappy, snappyCodec],
    [CompressionTypes.LZ4, lz4Codec],
    [CompressionTypes.ZSTD, zstdCodec],
  ];
  for (const [type, codec] of registered) {
    const found = CompressionCodecs[type]() as KafkaCodec;
    assert.equal(found, codec);
    assert.deepEqual(await found.decompress(await found.compress({ buffer: payload })), payload);
  }
  assert.equal(CompressionCodecs[CompressionTypes.GZIP](), gzip);
});

test('compressionType() maps each DEC_OUTPUT_COMPRESSION value to its Kafka codec id', () => {
  assert.deepEqual(
    (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map(compressionType),
    [0, 1, 2, 3, 4],
  );
});

/** About 1.4 MB of labelled JSON records: 22 blocks of 64 KiB. */
function largeJsonBatch(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 500; i++) {
    const pixels = Array.from({ length: 784 }, (_, p) =>
      ((i * 31 + p * 7) % 97) / 97 > 0.6 ? Math.round((i + p) % 1000) / 1000 : 0,
    );
    const record = { id: i, digit: i % 10, pixels, cluster: i % 10, confidence: 0.912345 };
    lines.push(JSON.stringify(record));
  }
  return Buffer.from(lines.join('\n'));
}

/** The compressed blocks of an LZ4 frame written by lz4Compress (7-byte header, no checksums). */
function frameBlocks(frame: Buffer): { data: Buffer; stored: boolean }[] {
  const blocks: { data: Buffer; stored: boolean }[] = [];
  for (let at = 7; ;) {
    const word = frame.readUInt32LE(at);
    at += 4;
    if (word === 0) return blocks;
    const size = word & 0x7fffffff;
    blocks.push({ data: frame.subarray(at, at + size), stored: (word & 0x80000000) !== 0 });
    at += size;
  }
}

test('lz4Compress() never ends a block with a match that starts inside its last 12 bytes', () => {
  const input = largeJsonBatch();
  const frame = lz4Compress(input);
  assert.deepEqual(lz4Decompress(frame), input);
  const blocks = frameBlocks(frame);
  assert.equal(blocks.length, Math.ceil(input.length / 65536));
  blocks.forEach(({ data, stored }, i) => {
    const length = Math.min(65536, input.length - i * 65536);
    if (!stored) assert.equal(lastMatchTooLate(data, data.length, length), false, `block ${i}`);
  });
  // lz4js on its own breaks the rule in some of these blocks; they are the ones stored.
  assert.ok(blocks.some((b) => b.stored));
  assert.ok(frame.length < input.length / 2);
});

test('lastMatchTooLate() finds a match starting 10 bytes before the end, and accepts 12', () => {
  // Literals "abcd", then a match of 4 at offset 4 ("abcd"), then the last literals.
  const block = (tail: number): Uint8Array =>
    Uint8Array.from([
      0x40,
      ...Buffer.from('abcd'),
      0x04,
      0x00,
      (tail << 4) | 0,
      ...Buffer.alloc(tail, 0x7a),
    ]);
  // decoded: 4 literals + 4 match + tail literals; the match starts at 4.
  assert.equal(lastMatchTooLate(block(6), block(6).length, 14), true);
  assert.equal(lastMatchTooLate(block(8), block(8).length, 16), false);
});
