import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { PoisonReasons } from '../../../src/errors.js';
import { PrometheusObserver } from '../../../src/metrics/prometheus-observer.js';
import { TrainingPhases } from '../../../src/model/types.js';
import { RejectReasons } from '../../../src/online/refinement-policy.js';
import {
  Phase,
  RecordOutcomes,
  RefinementResults,
  SnapshotWriteResults,
} from '../../../src/worker/observer.js';

const dashboardPath = new URL(
  '../../../helm/dec-stream/dashboards/dec-stream.json',
  import.meta.url,
);
const rulesPath = new URL('../../../helm/dec-stream/rules/dec-stream-alerts.yaml', import.meta.url);

/** Every string anywhere inside a parsed JSON or YAML document. */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node !== null && typeof node === 'object') return Object.values(node).flatMap(strings);
  return [];
}

/** The metric families (histogram suffixes removed) named by the dashboard and the alert rules. */
function referencedFamilies(registered: ReadonlySet<string>): string[] {
  const documents = [
    JSON.parse(readFileSync(dashboardPath, 'utf8')) as unknown,
    parseYaml(readFileSync(rulesPath, 'utf8')) as unknown,
  ];
  const names = new Set<string>();
  for (const text of documents.flatMap(strings)) {
    for (const [name] of text.matchAll(/\bdecstream_[a-z0-9_]+/g)) {
      const family = name.replace(/_(bucket|count|sum)$/, '');
      names.add(registered.has(family) ? family : name);
    }
  }
  return [...names].sort();
}

/**
 * Families whose label values the worker learns as it runs, so they cannot exist at start-up:
 * clusters (0..k-1) and the model's description once a model serves, partitions once assigned.
 */
const learnedLater = new Set([
  'decstream_model_info',
  'decstream_cluster_records_total',
  'decstream_cluster_reseeds_total',
  'decstream_cluster_share_ratio',
  'decstream_consumer_lag_records',
]);

async function seriesOf(registry: Registry, family: string): Promise<Record<string, string>[]> {
  const metric = registry.getSingleMetric(family);
  assert.ok(metric, `${family} is registered`);
  const data = await metric.get();
  return data.values.map((v) => {
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(v.labels)) labels[key] = String(value);
    return labels;
  });
}

/** The value of the series of `family` with exactly these labels. */
async function valueOf(
  registry: Registry,
  family: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(family);
  assert.ok(metric, `${family} is registered`);
  const data = await metric.get();
  const match = data.values.find(
    (v) =>
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value),
  );
  return match?.value;
}

function fresh(): { registry: Registry; observer: PrometheusObserver } {
  const registry = new Registry();
  return { registry, observer: new PrometheusObserver(registry) };
}

void describe('series the dashboard and the alert rules read', () => {
  void test('every metric they name exists from start-up, except those labelled by what the worker learns', async () => {
    const { registry } = fresh();
    const registered = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const families = referencedFamilies(registered);
    assert.ok(families.length >= 30, `found ${families.length} metrics in the dashboard and rules`);
    for (const family of families) {
      assert.ok(registered.has(family), `${family} is registered by the observer`);
      if (learnedLater.has(family)) continue;
      const series = await seriesOf(registry, family);
      assert.ok(series.length > 0, `${family} has a series at start-up`);
    }
  });

  void test('the ones labelled by what the worker learns exist once a model serves and a partition is assigned', async () => {
    const { registry, observer } = fresh();
    observer.modelServing({
      version: 1,
      backend: 'cpu',
      inputDims: 2,
      clusters: 3,
      modelKind: 'dec',
    });
    observer.consumerLag('input', 0, 5);
    observer.clusterShares([0.5, 0.3, 0.2]);
    for (const family of learnedLater) {
      const series = await seriesOf(registry, family);
      assert.ok(series.length > 0, `${family} has a series`);
    }
  });

  void test('every known label value starts at 0', async () => {
    const { registry } = fresh();
    const expected: [string, string, readonly string[]][] = [
      ['decstream_records_total', 'outcome', RecordOutcomes],
      ['decstream_dead_letters_total', 'reason', PoisonReasons],
      ['decstream_refinements_total', 'result', RefinementResults],
      ['decstream_refinement_rejections_total', 'reason', RejectReasons],
      ['decstream_snapshot_writes_total', 'result', SnapshotWriteResults],
      ['decstream_bootstrap_stage', 'stage', TrainingPhases],
    ];
    for (const [family, label, values] of expected) {
      for (const value of values) {
        assert.equal(
          await valueOf(registry, family, { [label]: value }),
          0,
          `${family}{${label}="${value}"}`,
        );
      }
    }
    for (const phase of Object.values(Phase)) {
      const expectedValue = phase === Phase.Starting ? 1 : 0;
      assert.equal(await valueOf(registry, 'decstream_phase', { phase }), expectedValue);
    }
  });

  void test('a serving model starts each cluster counter at 0 and keeps what was already counted', async () => {
    const { registry, observer } = fresh();
    observer.modelServing({
      version: 1,
      backend: 'cpu',
      inputDims: 2,
      clusters: 2,
      modelKind: 'dec',
    });
    observer.clusterReseeded(1);
    observer.labelledPerCluster([4, 0]);
    observer.modelServing({
      version: 2,
      backend: 'cpu',
      inputDims: 2,
      clusters: 3,
      modelKind: 'dec',
    });
    const reseeds = 'decstream_cluster_reseeds_total';
    const records = 'decstream_cluster_records_total';
    assert.equal(await valueOf(registry, reseeds, { cluster: '0' }), 0);
    assert.equal(await valueOf(registry, reseeds, { cluster: '1' }), 1);
    assert.equal(await valueOf(registry, reseeds, { cluster: '2' }), 0);
    assert.equal(await valueOf(registry, records, { cluster: '0' }), 4);
    assert.equal(await valueOf(registry, records, { cluster: '1' }), 0);
    assert.equal(await valueOf(registry, records, { cluster: '2' }), 0);
  });
});
