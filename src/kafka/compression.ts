/**
 * Record-batch compression for kafkajs, which ships gzip only and throws `KafkaJSNotImplemented`
 * on the first snappy, lz4 or zstd batch it fetches. The codecs here are pure JavaScript or
 * bundled WebAssembly, so installing dec-stream downloads and builds nothing.
 *
 * kafkajs looks codecs up in a module-level table, and every worker thread loads its own copy of
 * kafkajs: `createKafka` registers them, so each thread that consumes or produces has them.
 */
import { compress as zstdCompressFrame, init as initZstdWasm } from '@bokuweb/zstd-wasm';
import { decompress as zstdDecompressFrames } from 'fzstd';
import kafkajs, { CompressionTypes } from 'kafkajs';
import * as lz4 from 'lz4js';
import { hash as lz4Xxh32 } from 'lz4js/xxh32.js';
import * as snappy from 'snappyjs';
import type { OutputCompression } from '../config/config.js';

const typeByName: Readonly<Record<OutputCompression, CompressionTypes>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** The kafkajs compression type that writes `name`. */
export function compressionType(name: OutputCompression): CompressionTypes {
  return typeByName[name];
}

/** What kafkajs asks of a codec: it hands compress its record encoder, decompress the bytes. */
export interface KafkaCodec {
  compress(encoder: { readonly buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/**
 * snappy-java's stream header, which the Java client writes before its snappy blocks: magic
 * `\x82SNAPPY\0`, then version 1 and minimum compatible version 1 (big-endian int32 each).
 * Each block after it is a big-endian int32 length and that many bytes of raw snappy.
 */
const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeader = Buffer.concat([xerialMagic, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
/** snappy-java's block size: what a Java consumer expects and a large batch is cut into. */
const xerialBlockBytes = 32 * 1024;

function isXerialFramed(buffer: Buffer): boolean {
  return buffer.length >= xerialHeader.length && buffer.subarray(0, 8).equals(xerialMagic);
}

/**
 * Snappy as Kafka clients write it: the Java client frames its blocks (see xerialHeader),
 * librdkafka and others send one raw snappy block. Both are read.
 */
export function snappyDecompress(buffer: Buffer): Buffer {
  if (!isXerialFramed(buffer)) return toBuffer(snappy.uncompress(buffer));
  const blocks: Buffer[] = [];
  let at = xerialHeader.length;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new Error('snappy: truncated block length');
    const length = buffer.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > buffer.length) throw new Error('snappy: truncated block');
    blocks.push(toBuffer(snappy.uncompress(buffer.subarray(at, at + length))));
    at += length;
  }
  return Buffer.concat(blocks);
}

/** Writes the framed form, which every Kafka client reads (the Java client's own). */
export function snappyCompress(input: Buffer): Buffer {
  const parts: Buffer[] = [xerialHeader];
  for (let at = 0; at < input.length; at += xerialBlockBytes) {
    const block = toBuffer(snappy.compress(input.subarray(at, at + xerialBlockBytes)));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/**
 * LZ4 frame format, Kafka's since message format 1. Reading takes any frame (the header checksum
 * is not checked, so old brokers' miscomputed one is read too; the batch CRC covers the data).
 */
export function lz4Decompress(buffer: Buffer): Buffer {
  return toBuffer(lz4.decompress(buffer));
}

/**
 * Kafka's own writer's frame: 64 KiB blocks flagged independent, which Kafka's reader requires
 * (it refuses a frame without the flag). lz4js's frame writer sets no such flag and may match
 * across blocks, so the frame is built here around its block compressor, each block compressed
 * on its own view with a cleared hash table, so it cannot reference an earlier one.
 */
export function lz4Compress(input: Buffer): Buffer {
  const parts: Uint8Array[] = [lz4FrameHeader];
  const hashTable = new Uint32Array(lz4HashEntries);
  const scratch = new Uint8Array(lz4.compressBound(lz4BlockBytes));
  for (let at = 0; at < input.length; at += lz4BlockBytes) {
    const block = input.subarray(at, at + lz4BlockBytes);
    hashTable.fill(0);
    const size = lz4.compressBlock(block, scratch, 0, block.length, hashTable);
    const stored =
      size === 0 || size >= block.length || lastMatchTooLate(scratch, size, block.length);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(stored ? (lz4Uncompressed | block.length) >>> 0 : size);
    parts.push(length, stored ? block : scratch.slice(0, size));
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

/**
 * LZ4's end-of-block rule: the last match must start at least 12 bytes before the block's end
 * (MFLIMIT). lz4js lets a match start up to 10 bytes before it, which its own decoder accepts and
 * the reference decoder (Kafka's, librdkafka's) refuses: about one 64 KiB block in ten of JSON
 * records did. Such a block is stored uncompressed instead. Walks the block's sequences: a token
 * (literal count, match length), the literals, then a 2-byte offset and the match.
 */
export function lastMatchTooLate(block: Uint8Array, size: number, decodedLength: number): boolean {
  let at = 0;
  let decoded = 0;
  let lastMatchStart = -1;
  const extended = (base: number): number => {
    let length = base;
    if (base === 15) {
      let byte: number;
      do {
        byte = block[at++]!;
        length += byte;
      } while (byte === 255 && at < size);
    }
    return length;
  };
  while (at < size) {
    const token = block[at++]!;
    const literals = extended(token >> 4);
    at += literals;
    decoded += literals;
    if (at >= size) break; // the last sequence: literals only
    at += 2; // offset
    const matchLength = extended(token & 15) + 4;
    lastMatchStart = decoded;
    decoded += matchLength;
  }
  return lastMatchStart > decodedLength - 12;
}

const lz4BlockBytes = 64 * 1024;
const lz4HashEntries = 1 << 16;
const lz4Uncompressed = 0x80000000;

/**
 * Magic 0x184D2204 (little-endian); FLG 0x60: version 1, blocks independent, no checksums or
 * content size; BD 0x40: 64 KiB blocks; HC: second byte of the xxHash32 (seed 0) of FLG and BD.
 */
const lz4FrameHeader = ((): Buffer => {
  const descriptor = Buffer.from([0x60, 0x40]);
  const checksum = (lz4Xxh32(0, descriptor, 0, descriptor.length) >>> 8) & 0xff;
  return Buffer.concat([
    Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    descriptor,
    Buffer.from([checksum]),
  ]);
})();

/** Kafka's default zstd level (`compression.zstd.level`). */
const zstdLevel = 3;
let zstdReady: Promise<void> | undefined;

/**
 * Decompression is fzstd's (pure JavaScript): it reads frames without a declared content size,
 * which streaming writers such as the Java client's produce and which the WebAssembly decoder
 * only reads up to a fixed 1 MiB. Compression is the reference library built to WebAssembly.
 */
export function zstdDecompress(buffer: Buffer): Buffer {
  return toBuffer(zstdDecompressFrames(buffer));
}

export async function zstdCompress(input: Buffer): Promise<Buffer> {
  zstdReady ??= initZstdWasm();
  await zstdReady;
  return toBuffer(zstdCompressFrame(input, zstdLevel));
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export const snappyCodec: KafkaCodec = {
  compress: ({ buffer }) => Promise.resolve(snappyCompress(buffer)),
  decompress: (buffer) => Promise.resolve(snappyDecompress(buffer)),
};

export const lz4Codec: KafkaCodec = {
  compress: ({ buffer }) => Promise.resolve(lz4Compress(buffer)),
  decompress: (buffer) => Promise.resolve(lz4Decompress(buffer)),
};

export const zstdCodec: KafkaCodec = {
  compress: ({ buffer }) => zstdCompress(buffer),
  decompress: (buffer) => Promise.resolve(zstdDecompress(buffer)),
};

/** Adds snappy, lz4 and zstd to this thread's kafkajs (gzip is built in). Idempotent. */
export function registerCompressionCodecs(): void {
  // Node cannot see this export of kafkajs's CommonJS entry by name; the default import holds it.
  const { CompressionCodecs } = kafkajs;
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
}
