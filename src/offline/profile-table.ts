/**
 * Cluster profiles as text for a terminal: a summary table (one line per cluster), then what sets
 * each cluster apart.
 */
import type { ClusterProfile, FeatureDeviation } from '../model/cluster-profile.js';

/** Four significant digits, without exponent noise for everyday magnitudes. */
function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

function deviation(d: FeatureDeviation): string {
  const z = `${d.z >= 0 ? '+' : ''}${d.z.toFixed(2)}`;
  return `${d.feature} z=${z} (${num(d.clusterMean)} vs ${num(d.overallMean)})`;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => cell.padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();
}

/** The summary table and one block per cluster. */
export function profileTable(profiles: readonly ClusterProfile[]): string {
  const header = ['cluster', 'share', 'size', 'confidence', 'sets it apart most'];
  const rows = profiles.map((p) => [
    String(p.cluster),
    `${(100 * p.share).toFixed(1)} %`,
    String(p.size),
    p.meanConfidence === null ? '-' : p.meanConfidence.toFixed(3),
    [...p.topFeatures, ...p.topPositions.flatMap((f) => f.positions)]
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))
      .slice(0, 1)
      .map(deviation)
      .join('') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const lines = [pad(header, widths), ...rows.map((r) => pad(r, widths)), ''];
  for (const p of profiles) lines.push(...clusterBlock(p), '');
  return `${lines.join('\n')}`;
}

function clusterBlock(p: ClusterProfile): string[] {
  const lines = [`cluster ${p.cluster}`];
  if (p.prototype !== null) {
    const parts = p.prototype.map((f) =>
      f.values.length === 1
        ? `${f.field}=${num(f.values[0] as number)}`
        : `${f.field}=[${f.values.length} values]`,
    );
    lines.push(`  prototype        ${parts.join('  ')}`);
  }
  if (p.topFeatures.length > 0) {
    lines.push(`  features         ${p.topFeatures.map(deviation).join(', ')}`);
  }
  for (const field of p.topPositions) {
    lines.push(
      `  ${`${field.field} positions`.padEnd(16)} ${field.positions.map(deviation).join(', ')}`,
    );
  }
  if (p.nearest.length > 0) {
    const members = p.nearest.map((m) => `${m.id ?? '?'} (${num(m.distance)})`);
    lines.push(`  nearest records  ${members.join(', ')}`);
  }
  return lines;
}
