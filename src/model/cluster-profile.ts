/**
 * What each cluster of a model version means, in the input's own feature names and units:
 * a prototype record (the centroid decoded and unscaled), its share, how sure the model is of its
 * members, the kept records nearest its centroid, and the features whose cluster mean lies
 * furthest from the whole set's, as z-scores. Pure: plain arrays in, plain objects out.
 */
import { clusterIdsOf } from './cluster-ids.js';
import type { ClusterStatistics } from './cluster-statistics.js';
import type { DenseLayer, FeatureSpec, ModelSnapshot } from './types.js';

/** One feature value of a prototype: a field's name and its values (one for a scalar field). */
export interface PrototypeField {
  readonly field: string;
  readonly values: readonly number[];
}

/** How far one feature's cluster mean lies from the whole set's mean. */
export interface FeatureDeviation {
  /** `field` for a scalar field, `field[position]` for a position in a vector field. */
  readonly feature: string;
  /** (cluster mean − overall mean) / overall standard deviation; 0 for a constant feature. */
  readonly z: number;
  /** In input units. */
  readonly clusterMean: number;
  readonly overallMean: number;
}

export interface NearestMember {
  /** Where the record came from (ClusterMember.id), null where unknown. */
  readonly id: string | null;
  /** Distance to the centroid in the embedding. */
  readonly distance: number;
}

export interface ClusterProfile {
  readonly cluster: number;
  readonly modelVersion: number;
  /** Fraction of the version's records in this cluster. */
  readonly share: number;
  /** Records of the cluster among those the version was made on. */
  readonly size: number;
  /** Mean max_j q_ij of its records; null when unknown (older snapshots) or empty. */
  readonly meanConfidence: number | null;
  /** The centroid decoded and unscaled, one entry per feature field; null without a decoder or statistics. */
  readonly prototype: readonly PrototypeField[] | null;
  /** Kept members nearest the centroid, nearest first. */
  readonly nearest: readonly NearestMember[];
  /** The scalar fields that set the cluster apart most (largest |z| first). */
  readonly topFeatures: readonly FeatureDeviation[];
  /** For each vector field, its positions that set the cluster apart most. */
  readonly topPositions: readonly {
    readonly field: string;
    readonly positions: readonly FeatureDeviation[];
  }[];
}

/** Features and positions listed per cluster, and kept members named as nearest. */
export const ProfileTopCount = 5;

/**
 * One profile per cluster of `snapshot`. Statistics come from the snapshot (kept when the version
 * was made); a snapshot without them still yields prototypes and shares (from the training
 * metrics' cluster sizes), with no confidence, members or features.
 */
export function clusterProfiles(snapshot: ModelSnapshot): ClusterProfile[] {
  const k = snapshot.parameters.clusters;
  const stats = snapshot.clusterStatistics;
  const prototypes = prototypeRows(snapshot);
  const sizes = stats?.counts ?? snapshot.metrics.clusterSizes;
  const total = sizes.reduce((a, b) => a + b, 0);
  const dims = snapshot.standardisation.mean.length;
  const ids = clusterIdsOf(snapshot);
  return Array.from({ length: k }, (_, c): ClusterProfile => {
    const size = sizes[c] ?? 0;
    const confidence = stats?.meanConfidence[c];
    const row = prototypes?.subarray(c * dims, (c + 1) * dims);
    return {
      cluster: ids[c]!,
      modelVersion: snapshot.version,
      share: total > 0 ? size / total : 0,
      size,
      meanConfidence: confidence === undefined || !Number.isFinite(confidence) ? null : confidence,
      prototype: row === undefined ? null : splitByField(row, snapshot.featureSpec),
      nearest: stats === undefined ? [] : nearestMembers(stats, c),
      ...(stats === undefined
        ? { topFeatures: [], topPositions: [] }
        : deviations(stats, c, snapshot.featureSpec)),
    };
  });
}

/**
 * Row-major [clusters, dims] prototypes in input units. The centroids live in the embedding: the
 * decoder maps them back to standardised inputs, which are then unscaled (x · std + mean). The
 * k-means model's centroids already are standardised inputs (its decoder is the identity). A model
 * without a decoder falls back to the cluster means of its statistics; without those, undefined.
 */
export function prototypeRows(snapshot: ModelSnapshot): Float32Array | undefined {
  const p = snapshot.parameters;
  const { mean, std } = snapshot.standardisation;
  const dims = mean.length;
  let standardised: Float32Array;
  if (snapshot.metrics.modelKind === 'kmeans' && p.embeddingSize === dims) {
    standardised = p.centroids;
  } else if (p.decoder.length > 0) {
    standardised = forwardLayers(p.centroids, p.clusters, p.decoder);
  } else {
    return snapshot.clusterStatistics === undefined
      ? undefined
      : Float32Array.from(snapshot.clusterStatistics.clusterMeans);
  }
  const out = new Float32Array(p.clusters * dims);
  for (let i = 0; i < out.length; i++) {
    const d = i % dims;
    out[i] = (standardised[i] as number) * (std[d] as number) + (mean[d] as number);
  }
  return out;
}

/** act(x · W + b) through each layer, for `rows` row-major rows of x; plain arrays, float64 sums. */
export function forwardLayers(
  x: Float32Array,
  rows: number,
  layers: readonly DenseLayer[],
): Float32Array {
  let input = x;
  for (const layer of layers) {
    const { inputSize, outputSize, weights, bias } = layer;
    const output = new Float32Array(rows * outputSize);
    const acc = new Float64Array(outputSize);
    for (let r = 0; r < rows; r++) {
      acc.set(bias);
      for (let i = 0; i < inputSize; i++) {
        const v = input[r * inputSize + i] as number;
        if (v === 0) continue;
        const w = i * outputSize;
        for (let o = 0; o < outputSize; o++) {
          acc[o] = (acc[o] as number) + v * (weights[w + o] as number);
        }
      }
      for (let o = 0; o < outputSize; o++) {
        const a = acc[o] as number;
        output[r * outputSize + o] = layer.activation === 'relu' && a < 0 ? 0 : a;
      }
    }
    input = output;
  }
  return input;
}

/** A flat feature row as one entry per field of the spec. */
export function splitByField(row: ArrayLike<number>, spec: FeatureSpec): PrototypeField[] {
  let at = 0;
  return spec.fields.map((field, f) => {
    const width = spec.widths[f] ?? 1;
    const values = Array.from({ length: width }, (_, i) => row[at + i] as number);
    at += width;
    return { field, values };
  });
}

function nearestMembers(stats: ClusterStatistics, cluster: number): NearestMember[] {
  return stats.members
    .filter((m) => m.cluster === cluster)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, ProfileTopCount)
    .map((m) => ({ id: m.id ?? null, distance: m.distance }));
}

/** z-scores of the cluster's mean against the whole set, per column, grouped as the profile lists them. */
function deviations(
  stats: ClusterStatistics,
  cluster: number,
  spec: FeatureSpec,
): Pick<ClusterProfile, 'topFeatures' | 'topPositions'> {
  const dims = stats.mean.length;
  const column = (d: number, feature: string): FeatureDeviation => {
    const clusterMean = stats.clusterMeans[cluster * dims + d] as number;
    const overallMean = stats.mean[d] as number;
    const sd = stats.std[d] as number;
    return {
      feature,
      z: sd > 1e-12 ? (clusterMean - overallMean) / sd : 0,
      clusterMean,
      overallMean,
    };
  };
  const scalars: FeatureDeviation[] = [];
  const topPositions: ClusterProfile['topPositions'][number][] = [];
  let at = 0;
  spec.fields.forEach((field, f) => {
    const width = spec.widths[f] ?? 1;
    if (width === 1) {
      scalars.push(column(at, field));
    } else {
      const positions = Array.from({ length: width }, (_, i) => column(at + i, `${field}[${i}]`));
      topPositions.push({ field, positions: largestFirst(positions) });
    }
    at += width;
  });
  return { topFeatures: largestFirst(scalars), topPositions };
}

function largestFirst(list: FeatureDeviation[]): FeatureDeviation[] {
  return list.sort((a, b) => Math.abs(b.z) - Math.abs(a.z)).slice(0, ProfileTopCount);
}
