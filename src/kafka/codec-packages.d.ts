// Types of the two codec packages that ship none. Only what compression.ts calls is declared.

declare module 'snappyjs' {
  /** Raw snappy (no framing). */
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

declare module 'lz4js' {
  /** Reads one LZ4 frame (magic 0x184D2204). */
  export function decompress(input: Uint8Array, maxSize?: number): Uint8Array;
  /** Largest compressed size of `length` bytes. */
  export function compressBound(length: number): number;
  /**
   * Compresses `src[start, start + length)` as one raw LZ4 block into `dst`; returns its size, 0
   * when the block is too short to compress. `hashTable` (65536 entries) holds positions + 1.
   */
  export function compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    start: number,
    length: number,
    hashTable: Uint32Array,
  ): number;
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of `src[start, start + length)`. */
  export function hash(seed: number, src: Uint8Array, start: number, length: number): number;
}
