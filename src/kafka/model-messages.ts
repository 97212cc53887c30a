import { createHash } from 'node:crypto';
import type { ModelSkipReason } from '../worker/ports.js';

/**
 * How a model version travels on the compacted models topic: its snapshot bytes cut into chunks
 * that each fit the topic's message limit, then one manifest that names the chunks and the SHA-256
 * of the whole. Keys carry the version, so compaction keeps every version until the trainer writes
 * tombstones for the old ones; the chunks and the manifest of one version are written in one
 * transaction, so a read_committed reader sees a version whole or not at all.
 */

/** The manifest's value: what a reader needs to reassemble and verify one version. */
export interface ModelManifest {
  readonly version: number;
  readonly createdAt: string;
  readonly chunks: number;
  readonly bytes: number;
  /** Hex SHA-256 of the snapshot bytes. */
  readonly sha256: string;
}

export interface ModelMessage {
  readonly key: string;
  /** Null for a tombstone. */
  readonly value: Buffer | null;
}

const versionDigits = 9;

function versionKey(version: number): string {
  return `v${String(version).padStart(versionDigits, '0')}`;
}

export function manifestKey(version: number): string {
  return `${versionKey(version)}/manifest`;
}

export function chunkKey(version: number, index: number): string {
  return `${versionKey(version)}/chunk/${index}`;
}

const keyPattern = /^v(\d+)\/(manifest|chunk\/(\d+))$/;

/** What a key of the models topic names; undefined for a key this format does not use. */
export function parseModelKey(
  key: string,
):
  | { kind: 'manifest'; version: number }
  | { kind: 'chunk'; version: number; index: number }
  | undefined {
  const match = keyPattern.exec(key);
  if (match === null) return undefined;
  const version = Number(match[1]);
  if (match[3] === undefined) return { kind: 'manifest', version };
  return { kind: 'chunk', version, index: Number(match[3]) };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The messages of one version: its chunks (each at most `chunkBytes`), then its manifest. */
export function modelMessages(
  version: number,
  createdAt: string,
  snapshotBytes: Uint8Array,
  chunkBytes: number,
): ModelMessage[] {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const bytes = Buffer.from(snapshotBytes.buffer, snapshotBytes.byteOffset, snapshotBytes.length);
  const chunks = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const messages: ModelMessage[] = [];
  for (let i = 0; i < chunks; i++) {
    messages.push({
      key: chunkKey(version, i),
      value: bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes),
    });
  }
  const manifest: ModelManifest = {
    version,
    createdAt,
    chunks,
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
  };
  messages.push({ key: manifestKey(version), value: Buffer.from(JSON.stringify(manifest)) });
  return messages;
}

/** Tombstones for every key of one version, so that compaction removes it. */
export function versionTombstones(manifest: ModelManifest): ModelMessage[] {
  const messages: ModelMessage[] = [];
  for (let i = 0; i < manifest.chunks; i++) {
    messages.push({ key: chunkKey(manifest.version, i), value: null });
  }
  messages.push({ key: manifestKey(manifest.version), value: null });
  return messages;
}

export type AssembledVersion =
  | { readonly ok: true; readonly manifest: ModelManifest; readonly bytes: Buffer }
  | { readonly ok: false; readonly version: number; readonly reason: ModelSkipReason };

function parseManifest(value: Buffer, version: number): ModelManifest | undefined {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as Partial<ModelManifest>;
    const valid =
      parsed.version === version &&
      typeof parsed.createdAt === 'string' &&
      Number.isInteger(parsed.chunks) &&
      (parsed.chunks as number) >= 1 &&
      Number.isInteger(parsed.bytes) &&
      typeof parsed.sha256 === 'string';
    return valid ? (parsed as ModelManifest) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reassembles versions from the topic's messages in the order they were read. Chunks wait until
 * their manifest arrives; a manifest yields the version once its chunks are all there and their
 * bytes match its length and checksum, or says why not. A tombstone forgets what it names.
 */
export class ModelAssembler {
  private readonly chunks = new Map<number, Map<number, Buffer>>();

  /** Takes one message; returns a version when the message was a manifest. */
  add(message: ModelMessage): AssembledVersion | undefined {
    const key = parseModelKey(message.key);
    if (key === undefined) return undefined;
    if (key.kind === 'chunk') {
      const parts = this.chunks.get(key.version) ?? new Map<number, Buffer>();
      if (message.value === null) parts.delete(key.index);
      else parts.set(key.index, message.value);
      if (parts.size === 0) this.chunks.delete(key.version);
      else this.chunks.set(key.version, parts);
      return undefined;
    }
    if (message.value === null) {
      this.chunks.delete(key.version);
      return undefined;
    }
    return this.assemble(key.version, message.value);
  }

  /** Drops the chunks of versions up to `version`: they can no longer be served. */
  forgetUpTo(version: number): void {
    for (const v of this.chunks.keys()) if (v <= version) this.chunks.delete(v);
  }

  private assemble(version: number, value: Buffer): AssembledVersion {
    const manifest = parseManifest(value, version);
    if (manifest === undefined) return { ok: false, version, reason: 'bad-manifest' };
    const parts = this.chunks.get(version);
    const ordered: Buffer[] = [];
    for (let i = 0; i < manifest.chunks; i++) {
      const part = parts?.get(i);
      if (part === undefined) return { ok: false, version, reason: 'missing-chunk' };
      ordered.push(part);
    }
    const bytes = Buffer.concat(ordered);
    if (bytes.length !== manifest.bytes || sha256Hex(bytes) !== manifest.sha256) {
      return { ok: false, version, reason: 'checksum' };
    }
    this.chunks.delete(version);
    return { ok: true, manifest, bytes };
  }
}
