/**
 * Cluster statistics as they sit in a snapshot header: JSON, with each float32 array as the
 * base64 text of its little-endian bytes. They live in the header rather than among the weight
 * blobs so that a build which does not know them still reads the file (unknown header fields are
 * ignored, unknown blobs are not).
 */
import { SnapshotError } from '../errors.js';
import type { ClusterMember, ClusterStatistics } from './cluster-statistics.js';

export interface StatisticsHeader {
  readonly rows: number;
  readonly counts: readonly number[];
  readonly meanConfidence: readonly number[];
  readonly mean: string;
  readonly std: string;
  readonly clusterMeans: string;
  readonly members: readonly ClusterMember[];
  readonly memberFeatures: string;
}

export function statisticsToHeader(s: ClusterStatistics): StatisticsHeader {
  return {
    rows: s.rows,
    counts: [...s.counts],
    meanConfidence: [...s.meanConfidence],
    mean: floatsToBase64(s.mean),
    std: floatsToBase64(s.std),
    clusterMeans: floatsToBase64(s.clusterMeans),
    members: s.members.map((m) => ({ ...m })),
    memberFeatures: floatsToBase64(s.memberFeatures),
  };
}

/**
 * Reads the header section back and checks it against the model's shape. Throws SnapshotError
 * when it does not fit: the checksum already vouched for the bytes, so a misfit is a writer's bug.
 */
export function statisticsFromHeader(
  value: unknown,
  clusters: number,
  dims: number,
): ClusterStatistics {
  const bad = (what: string): never => {
    throw new SnapshotError(`snapshot cluster statistics are invalid: ${what}`);
  };
  const h = value as Partial<StatisticsHeader> | null;
  if (h === null || typeof h !== 'object') return bad('not an object');
  const numbers = (list: unknown, length: number, name: string): number[] => {
    if (!Array.isArray(list) || list.length !== length || !list.every((v) => typeof v === 'number'))
      bad(`${name} must hold ${length} numbers`);
    return list as number[];
  };
  const floats = (text: unknown, length: number, name: string): Float32Array => {
    if (typeof text !== 'string') return bad(name);
    const out = base64ToFloats(text);
    if (out.length !== length) bad(`${name} holds ${out.length} values, expected ${length}`);
    return out;
  };
  if (!Array.isArray(h.members)) return bad('members');
  const members = h.members.map((m: Partial<ClusterMember>): ClusterMember => {
    if (
      !Number.isInteger(m.cluster) ||
      (m.cluster as number) < 0 ||
      (m.cluster as number) >= clusters ||
      typeof m.confidence !== 'number' ||
      typeof m.distance !== 'number' ||
      (m.id !== undefined && typeof m.id !== 'string')
    ) {
      return bad('a member');
    }
    return {
      cluster: m.cluster as number,
      ...(m.id === undefined ? {} : { id: m.id }),
      confidence: m.confidence,
      distance: m.distance,
    };
  });
  if (typeof h.rows !== 'number') bad('rows');
  return {
    rows: h.rows as number,
    counts: numbers(h.counts, clusters, 'counts'),
    meanConfidence: numbers(h.meanConfidence, clusters, 'meanConfidence'),
    mean: floats(h.mean, dims, 'mean'),
    std: floats(h.std, dims, 'std'),
    clusterMeans: floats(h.clusterMeans, clusters * dims, 'clusterMeans'),
    members,
    memberFeatures: floats(h.memberFeatures, members.length * dims, 'memberFeatures'),
  };
}

function floatsToBase64(data: Float32Array): string {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return Buffer.from(bytes).toString('base64');
}

function base64ToFloats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new SnapshotError('snapshot cluster statistics hold a float array of odd length');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
