import { createHash } from 'node:crypto';

import { SnapshotError } from '../errors.js';
import type { StatisticsHeader } from './statistics-header.js';
import { statisticsFromHeader, statisticsToHeader } from './statistics-header.js';
import type {
  DecOptions,
  DenseLayer,
  FeatureSpec,
  ModelSnapshot,
  TrainingMetrics,
} from './types.js';

/**
 * The snapshot container, version 1 (all integers and floats little-endian):
 *
 *   offset 0   8 bytes   magic "DECSNAP\0"
 *   offset 8   u32       format version (1)
 *   offset 12  u32       header length H in bytes
 *   offset 16  H bytes   header: UTF-8 JSON (version, createdAt, featureSpec, options, metrics,
 *                        layer shapes, blob table)
 *              0-3 bytes zero padding to a multiple of 4
 *              float32   blobs, in the order of the header's blob table
 *   last 32    bytes     sha256 of everything before it
 *
 * Weights travel as raw float32 so the paper-sized MNIST model (~3.3M floats) stays ~13 MB and
 * decodes without parsing text.
 */
export const SNAPSHOT_MAGIC = 'DECSNAP\0';
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Bytes before the header JSON: magic, format version, header length. */
export const SNAPSHOT_PREFIX_BYTES = 16;
const CHECKSUM_BYTES = 32;
/** A header holds shapes and metrics only; anything larger is corruption. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const MAGIC_BYTES = new TextEncoder().encode(SNAPSHOT_MAGIC);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface LayerShape {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly activation: DenseLayer['activation'];
}

interface SnapshotHeader {
  readonly version: number;
  readonly createdAt: string;
  readonly featureSpec: FeatureSpec;
  readonly options: DecOptions;
  readonly metrics: TrainingMetrics;
  readonly model: {
    readonly clusters: number;
    readonly embeddingSize: number;
    readonly alpha: number;
    readonly encoder: readonly LayerShape[];
    readonly decoder: readonly LayerShape[];
  };
  /** [name, float count] for each blob, in file order. */
  readonly blobs: readonly (readonly [string, number])[];
  /** Absent in snapshots written before versions kept them. */
  readonly clusterStatistics?: StatisticsHeader;
  /** Absent when every cluster is published under its index. */
  readonly clusterIds?: readonly number[];
}

/** What can be read from a snapshot's header without decoding (or verifying) the weights. */
export interface SnapshotSummary {
  readonly formatVersion: number;
  readonly version: number;
  readonly createdAt: string;
  readonly inputDims: number;
  readonly clusters: number;
  readonly embeddingSize: number;
}

/** Snapshots written before the guard and the manifold step were trained without them. */
function withOptionDefaults(
  options: Partial<DecOptions> &
    Omit<
      DecOptions,
      | 'initialisation'
      | 'distilEpochs'
      | 'manifoldStarts'
      | 'autoencoders'
      | 'guard'
      | 'guardMargin'
    >,
): DecOptions {
  return {
    ...options,
    initialisation: options.initialisation ?? 'kmeans',
    distilEpochs: options.distilEpochs ?? 0,
    manifoldStarts: options.manifoldStarts ?? 1,
    autoencoders: options.autoencoders ?? 1,
    guard: options.guard ?? false,
    guardMargin: options.guardMargin ?? 0,
  };
}

/** Serialises a snapshot into the binary container (with its sha256). Checks shapes first. */
export function encodeSnapshot(s: ModelSnapshot): Uint8Array {
  checkSnapshot(s);
  const blobs = blobList(s);
  const header: SnapshotHeader = {
    version: s.version,
    createdAt: s.createdAt,
    featureSpec: { fields: [...s.featureSpec.fields], widths: [...s.featureSpec.widths] },
    options: s.options,
    metrics: s.metrics,
    model: {
      clusters: s.parameters.clusters,
      embeddingSize: s.parameters.embeddingSize,
      alpha: s.parameters.alpha,
      encoder: s.parameters.encoder.map(layerShape),
      decoder: s.parameters.decoder.map(layerShape),
    },
    blobs: blobs.map(([name, data]) => [name, data.length] as const),
    ...(s.clusterStatistics === undefined
      ? {}
      : { clusterStatistics: statisticsToHeader(s.clusterStatistics) }),
    ...(s.clusterIds === undefined ? {} : { clusterIds: [...s.clusterIds] }),
  };
  let headerBytes = new TextEncoder().encode(JSON.stringify(header, encodeNonFinite));
  if (headerBytes.length > MAX_HEADER_BYTES && header.clusterStatistics !== undefined) {
    // Statistics of a very wide input with many clusters would make a file no reader accepts:
    // the version is kept without them (its profiles then lack members and features).
    headerBytes = new TextEncoder().encode(
      JSON.stringify({ ...header, clusterStatistics: undefined }, encodeNonFinite),
    );
  }
  const blobStart = align4(SNAPSHOT_PREFIX_BYTES + headerBytes.length);
  const floatCount = blobs.reduce((n, [, data]) => n + data.length, 0);
  const total = blobStart + floatCount * 4 + CHECKSUM_BYTES;

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC_BYTES, 0);
  view.setUint32(8, SNAPSHOT_FORMAT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  bytes.set(headerBytes, SNAPSHOT_PREFIX_BYTES);
  let offset = blobStart;
  for (const [, data] of blobs) {
    writeFloats(bytes, view, offset, data);
    offset += data.length * 4;
  }
  bytes.set(sha256(bytes.subarray(0, offset)), offset);
  return bytes;
}

/** The last 32 bytes must be the SHA-256 of everything before them. */
function checkChecksum(bytes: Uint8Array): void {
  if (bytes.length < SNAPSHOT_PREFIX_BYTES + CHECKSUM_BYTES) {
    throw new SnapshotError(`snapshot is too short (${bytes.length} bytes)`);
  }
  const bodyEnd = bytes.length - CHECKSUM_BYTES;
  const expected = sha256(bytes.subarray(0, bodyEnd));
  const stored = bytes.subarray(bodyEnd);
  if (!expected.every((b, i) => b === stored[i])) {
    throw new SnapshotError('snapshot checksum mismatch: the file is corrupted or truncated');
  }
}

/**
 * The cluster statistics and published ids a header carries; none in snapshots written before
 * they existed (ids: none while every cluster is published under its index).
 */
function clustersOf(
  header: SnapshotHeader,
): Pick<ModelSnapshot, 'clusterStatistics' | 'clusterIds'> {
  const ids = header.clusterIds === undefined ? {} : { clusterIds: header.clusterIds };
  if (header.clusterStatistics === undefined) return ids;
  const dims = header.featureSpec.widths.reduce((n, w) => n + w, 0);
  return {
    clusterStatistics: statisticsFromHeader(header.clusterStatistics, header.model.clusters, dims),
    ...ids,
  };
}

/**
 * Reads a snapshot back, verifying the magic, the format version, the checksum and every shape.
 * Throws SnapshotError saying what is wrong.
 */
export function decodeSnapshot(bytes: Uint8Array): ModelSnapshot {
  checkPrefix(bytes);
  checkChecksum(bytes);
  const header = readHeader(bytes);
  const blobStart = align4(SNAPSHOT_PREFIX_BYTES + headerLength(bytes));
  const floatCount = header.blobs.reduce((n, [, length]) => n + length, 0);
  const expectedLength = blobStart + floatCount * 4 + CHECKSUM_BYTES;
  if (bytes.length !== expectedLength) {
    throw new SnapshotError(
      `snapshot is ${bytes.length} bytes but its header describes ${expectedLength}`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blobs = new Map<string, Float32Array>();
  let offset = blobStart;
  for (const [name, length] of header.blobs) {
    blobs.set(name, readFloats(bytes, view, offset, length));
    offset += length * 4;
  }
  const blob = (name: string): Float32Array => {
    const data = blobs.get(name);
    if (data === undefined) throw new SnapshotError(`snapshot lacks the blob "${name}"`);
    return data;
  };
  const layers = (part: 'encoder' | 'decoder'): DenseLayer[] =>
    header.model[part].map((shape, i) => ({
      inputSize: shape.inputSize,
      outputSize: shape.outputSize,
      weights: blob(`${part}.${i}.weights`),
      bias: blob(`${part}.${i}.bias`),
      activation: shape.activation,
    }));

  const snapshot: ModelSnapshot = {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    version: header.version,
    createdAt: header.createdAt,
    featureSpec: header.featureSpec,
    standardisation: {
      mean: blob('standardisation.mean'),
      std: blob('standardisation.std'),
      // Absent when every column is used, and in snapshots written before columns were screened.
      ...(blobs.has('standardisation.weight') ? { weight: blob('standardisation.weight') } : {}),
    },
    // Snapshots written before the guard and the manifold step were trained without them.
    options: withOptionDefaults(header.options),
    parameters: {
      encoder: layers('encoder'),
      decoder: layers('decoder'),
      centroids: blob('centroids'),
      clusters: header.model.clusters,
      embeddingSize: header.model.embeddingSize,
      alpha: header.model.alpha,
    },
    metrics: header.metrics,
    ...clustersOf(header),
  };
  checkSnapshot(snapshot);
  if (blobs.size !== blobList(snapshot).length) {
    throw new SnapshotError('snapshot holds blobs that its model does not use');
  }
  return snapshot;
}

/**
 * Reads version, creation time and dimensions from the first bytes of a snapshot (the prefix and the
 * header), without the weights and without verifying the checksum: for listing a store cheaply.
 */
export function readSnapshotSummary(bytes: Uint8Array): SnapshotSummary {
  const header = readHeader(bytes);
  const inputDims = header.featureSpec.widths.reduce((n, w) => n + w, 0);
  return {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    version: header.version,
    createdAt: header.createdAt,
    inputDims,
    clusters: header.model.clusters,
    embeddingSize: header.model.embeddingSize,
  };
}

/** Bytes needed to read the summary: the prefix plus the header length stored at offset 12. */
export function snapshotHeaderBytes(prefix: Uint8Array): number {
  return SNAPSHOT_PREFIX_BYTES + headerLength(prefix);
}

function headerLength(bytes: Uint8Array): number {
  if (bytes.length < SNAPSHOT_PREFIX_BYTES) {
    throw new SnapshotError(`snapshot is too short (${bytes.length} bytes)`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  if (length > MAX_HEADER_BYTES) {
    throw new SnapshotError(`snapshot header claims ${length} bytes (corrupted)`);
  }
  return length;
}

/** Checks the magic bytes and the format version, which come before anything else is trusted. */
function checkPrefix(bytes: Uint8Array): void {
  if (bytes.length < SNAPSHOT_PREFIX_BYTES) {
    throw new SnapshotError(`snapshot is too short (${bytes.length} bytes)`);
  }
  if (!MAGIC_BYTES.every((b, i) => b === bytes[i])) {
    throw new SnapshotError('not a dec-stream snapshot (bad magic bytes)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = view.getUint32(8, true);
  if (formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(
      `unsupported snapshot format version ${formatVersion} (this build reads version ${SNAPSHOT_FORMAT_VERSION})`,
    );
  }
}

function readHeader(bytes: Uint8Array): SnapshotHeader {
  checkPrefix(bytes);
  const length = headerLength(bytes);
  if (SNAPSHOT_PREFIX_BYTES + length > bytes.length) {
    throw new SnapshotError('snapshot header is truncated');
  }
  let parsed: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(SNAPSHOT_PREFIX_BYTES, SNAPSHOT_PREFIX_BYTES + length),
    );
    parsed = JSON.parse(text, decodeNonFinite);
  } catch (error) {
    throw new SnapshotError('snapshot header is not valid JSON (corrupted)', { cause: error });
  }
  return checkHeader(parsed);
}

function checkHeader(value: unknown): SnapshotHeader {
  const h = value as Partial<SnapshotHeader> | null;
  const bad = (what: string): never => {
    throw new SnapshotError(`snapshot header is invalid: ${what}`);
  };
  if (h === null || typeof h !== 'object') return bad('not an object');
  if (typeof h.version !== 'number') bad('version');
  if (typeof h.createdAt !== 'string') bad('createdAt');
  const spec = h.featureSpec;
  if (
    spec === undefined ||
    !Array.isArray(spec.fields) ||
    !Array.isArray(spec.widths) ||
    !spec.fields.every((f) => typeof f === 'string') ||
    !spec.widths.every((w) => Number.isInteger(w) && w > 0)
  ) {
    bad('featureSpec');
  }
  if (h.options === null || typeof h.options !== 'object') bad('options');
  if (h.metrics === null || typeof h.metrics !== 'object') bad('metrics');
  const model = h.model;
  if (
    model === undefined ||
    typeof model !== 'object' ||
    !Array.isArray(model.encoder) ||
    !Array.isArray(model.decoder)
  ) {
    return bad('model');
  }
  if (
    !Array.isArray(h.blobs) ||
    !h.blobs.every(
      (b) =>
        Array.isArray(b) &&
        typeof b[0] === 'string' &&
        Number.isInteger(b[1]) &&
        (b[1] as number) >= 0,
    )
  ) {
    bad('blob table');
  }
  return h as SnapshotHeader;
}

/** Verifies that every array has the length its shapes say and that the layers chain up. */
function validClusterIds(ids: readonly number[], clusters: number): boolean {
  return (
    Array.isArray(ids) &&
    ids.length === clusters &&
    ids.every((id) => Number.isSafeInteger(id) && id >= 0) &&
    new Set(ids).size === ids.length
  );
}

function checkSnapshot(s: ModelSnapshot): void {
  const bad = (what: string): never => {
    throw new SnapshotError(`snapshot shapes do not match: ${what}`);
  };
  if (s.formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    bad(`format version ${String(s.formatVersion)}`);
  }
  if (!Number.isInteger(s.version) || s.version < 1) bad(`version ${s.version}`);
  const { fields, widths } = s.featureSpec;
  if (fields.length === 0 || fields.length !== widths.length) {
    bad(`${fields.length} feature fields with ${widths.length} widths`);
  }
  const dims = widths.reduce((n, w) => n + w, 0);
  const { mean, std } = s.standardisation;
  if (!(mean instanceof Float32Array) || !(std instanceof Float32Array)) {
    bad('standardisation is not float32');
  }
  if (mean.length !== dims || std.length !== dims) {
    bad(`standardisation has ${mean.length}/${std.length} values for ${dims} features`);
  }
  const { weight } = s.standardisation;
  if (weight !== undefined && (weight.length !== dims || weight.some((w) => w !== 0 && w !== 1))) {
    bad(`standardisation weight must be ${dims} values of 0 or 1`);
  }
  const p = s.parameters;
  if (!Number.isInteger(p.clusters) || p.clusters < 1) bad(`clusters ${p.clusters}`);
  if (!Number.isInteger(p.embeddingSize) || p.embeddingSize < 1) {
    bad(`embedding size ${p.embeddingSize}`);
  }
  if (s.clusterIds !== undefined && !validClusterIds(s.clusterIds, p.clusters)) {
    bad(`cluster ids must be ${p.clusters} distinct non-negative integers`);
  }
  if (s.options.clusters !== p.clusters) {
    bad(`options say ${s.options.clusters} clusters, the model has ${p.clusters}`);
  }
  checkChain('encoder', p.encoder, dims, p.embeddingSize, bad);
  if (p.decoder.length > 0) checkChain('decoder', p.decoder, p.embeddingSize, dims, bad);
  if (!(p.centroids instanceof Float32Array)) bad('centroids are not float32');
  if (p.centroids.length !== p.clusters * p.embeddingSize) {
    bad(`centroids hold ${p.centroids.length} values, expected ${p.clusters} x ${p.embeddingSize}`);
  }
}

function checkChain(
  part: string,
  layers: readonly DenseLayer[],
  from: number,
  to: number,
  bad: (what: string) => never,
): void {
  if (layers.length === 0) bad(`${part} has no layers`);
  let size = from;
  layers.forEach((layer, i) => {
    const name = `${part} layer ${i}`;
    if (layer.inputSize !== size) bad(`${name} takes ${layer.inputSize} inputs, expected ${size}`);
    if (!Number.isInteger(layer.outputSize) || layer.outputSize < 1) {
      bad(`${name} output size ${layer.outputSize}`);
    }
    if (!(layer.weights instanceof Float32Array) || !(layer.bias instanceof Float32Array)) {
      bad(`${name} is not float32`);
    }
    if (layer.weights.length !== layer.inputSize * layer.outputSize) {
      bad(
        `${name} has ${layer.weights.length} weights for ${layer.inputSize} x ${layer.outputSize}`,
      );
    }
    if (layer.bias.length !== layer.outputSize) {
      bad(`${name} has ${layer.bias.length} biases for ${layer.outputSize} outputs`);
    }
    if (layer.activation !== 'relu' && layer.activation !== 'linear') {
      bad(`${name} activation ${String(layer.activation)}`);
    }
    size = layer.outputSize;
  });
  if (size !== to) bad(`${part} ends with ${size} outputs, expected ${to}`);
}

function blobList(s: ModelSnapshot): [string, Float32Array][] {
  const list: [string, Float32Array][] = [
    ['standardisation.mean', s.standardisation.mean],
    ['standardisation.std', s.standardisation.std],
  ];
  if (s.standardisation.weight !== undefined) {
    list.push(['standardisation.weight', s.standardisation.weight]);
  }
  for (const part of ['encoder', 'decoder'] as const) {
    s.parameters[part].forEach((layer, i) => {
      list.push([`${part}.${i}.weights`, layer.weights], [`${part}.${i}.bias`, layer.bias]);
    });
  }
  list.push(['centroids', s.parameters.centroids]);
  return list;
}

function layerShape(layer: DenseLayer): LayerShape {
  return { inputSize: layer.inputSize, outputSize: layer.outputSize, activation: layer.activation };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function writeFloats(bytes: Uint8Array, view: DataView, offset: number, data: Float32Array): void {
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  for (let i = 0; i < data.length; i++) view.setFloat32(offset + i * 4, data[i] as number, true);
}

function readFloats(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  length: number,
): Float32Array {
  const out = new Float32Array(length);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + length * 4));
    return out;
  }
  for (let i = 0; i < length; i++) out[i] = view.getFloat32(offset + i * 4, true);
  return out;
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** JSON has no NaN or Infinity; metrics may (e.g. a loss that was never computed). */
function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value;
}

function decodeNonFinite(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const text = (value as { $number?: unknown }).$number;
    if (keys.length === 1 && typeof text === 'string') return Number(text);
  }
  return value;
}
