// Types of the two codec packages that ship none. Only what compression.ts calls is declared.

declare module 'snappyjs' {
  /** Raw snappy (no framing). */
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

declare module 'lz4js' {
  /** One LZ4 frame (magic 0x184D2204). */
  export function compress(input: Uint8Array, maxSize?: number): Uint8Array;
  export function decompress(input: Uint8Array, maxSize?: number): Uint8Array;
}
