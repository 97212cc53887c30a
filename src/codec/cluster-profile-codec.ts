/**
 * Cluster profiles as records of the clusters topic, in the output's format. Both formats carry
 * the same fields, snake_case like the labelled records' `model_version`, so a consumer joins a
 * labelled record's `cluster` to the profile record keyed by that cluster id.
 */
import avro from 'avsc';
import type { Schema } from 'avsc';
import type { ClusterProfile, FeatureDeviation } from '../model/cluster-profile.js';
import type { SchemaRegistry } from './schema-registry.js';
import { valueSubject } from './schema-registry.js';
import { wireHeaderBytes } from './confluent-avro-codec.js';

/** The record written per cluster and model version. */
export interface ClusterProfileRecord {
  readonly cluster: number;
  readonly model_version: number;
  readonly share: number;
  readonly size: number;
  readonly mean_confidence: number | null;
  readonly prototype: readonly { field: string; values: readonly number[] }[] | null;
  readonly nearest: readonly { id: string | null; distance: number }[];
  readonly top_features: readonly DeviationRecord[];
  readonly top_positions: readonly { field: string; positions: readonly DeviationRecord[] }[];
}

interface DeviationRecord {
  readonly feature: string;
  readonly z: number;
  readonly cluster_mean: number;
  readonly overall_mean: number;
}

const deviation = {
  type: 'record',
  name: 'FeatureDeviation',
  fields: [
    { name: 'feature', type: 'string', doc: '`field`, or `field[position]` in a vector field' },
    { name: 'z', type: 'double', doc: '(cluster mean - overall mean) / overall std' },
    { name: 'cluster_mean', type: 'double', doc: 'In input units' },
    { name: 'overall_mean', type: 'double', doc: 'In input units' },
  ],
};

/** The Avro schema of the clusters topic's values (registered as `<topic>-value`). */
export const clusterProfileSchema = {
  type: 'record',
  name: 'ClusterProfile',
  namespace: 'decstream',
  doc: 'What one cluster of one model version means; key: the cluster id as decimal text',
  fields: [
    { name: 'cluster', type: 'int' },
    { name: 'model_version', type: 'long' },
    { name: 'share', type: 'double', doc: 'Fraction of the records the version was made on' },
    { name: 'size', type: 'long', doc: 'Records of the cluster among those' },
    { name: 'mean_confidence', type: ['null', 'double'], default: null },
    {
      name: 'prototype',
      doc: 'The centroid decoded and unscaled, in input units, one entry per feature field',
      type: [
        'null',
        {
          type: 'array',
          items: {
            type: 'record',
            name: 'PrototypeField',
            fields: [
              { name: 'field', type: 'string' },
              { name: 'values', type: { type: 'array', items: 'double' } },
            ],
          },
        },
      ],
      default: null,
    },
    {
      name: 'nearest',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'NearestMember',
          fields: [
            { name: 'id', type: ['null', 'string'], default: null },
            { name: 'distance', type: 'double' },
          ],
        },
      },
    },
    { name: 'top_features', type: { type: 'array', items: deviation } },
    {
      name: 'top_positions',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'FieldPositions',
          fields: [
            { name: 'field', type: 'string' },
            { name: 'positions', type: { type: 'array', items: 'FeatureDeviation' } },
          ],
        },
      },
    },
  ],
} as const;

export function clusterProfileRecord(profile: ClusterProfile): ClusterProfileRecord {
  const dev = (d: FeatureDeviation): DeviationRecord => ({
    feature: d.feature,
    z: d.z,
    cluster_mean: d.clusterMean,
    overall_mean: d.overallMean,
  });
  return {
    cluster: profile.cluster,
    model_version: profile.modelVersion,
    share: profile.share,
    size: profile.size,
    mean_confidence: profile.meanConfidence,
    prototype: profile.prototype?.map((f) => ({ field: f.field, values: [...f.values] })) ?? null,
    nearest: profile.nearest.map((m) => ({ id: m.id, distance: m.distance })),
    top_features: profile.topFeatures.map(dev),
    top_positions: profile.topPositions.map((p) => ({
      field: p.field,
      positions: p.positions.map(dev),
    })),
  };
}

export type ClusterProfileEncoder = (profile: ClusterProfile) => Buffer;

export interface ClusterProfileEncoderOptions {
  readonly format: 'json' | 'avro';
  /** Avro only: values use the Confluent wire format, the schema registered as `<topic>-value`. */
  readonly registry?: SchemaRegistry | undefined;
  readonly topic: string;
}

/** The value encoder of the clusters topic; registers the Avro schema first when a registry is given. */
export async function clusterProfileEncoder(
  options: ClusterProfileEncoderOptions,
): Promise<ClusterProfileEncoder> {
  if (options.format === 'json') {
    return (profile) => Buffer.from(JSON.stringify(clusterProfileRecord(profile)), 'utf8');
  }
  const type = avro.Type.forSchema(clusterProfileSchema as unknown as Schema);
  if (options.registry === undefined) {
    return (profile) => type.toBuffer(clusterProfileRecord(profile));
  }
  const id = await options.registry.register(
    valueSubject(options.topic),
    JSON.stringify(clusterProfileSchema),
  );
  const header = Buffer.alloc(wireHeaderBytes);
  header.writeUInt32BE(id, 1);
  return (profile) => Buffer.concat([header, type.toBuffer(clusterProfileRecord(profile))]);
}
