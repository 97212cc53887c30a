import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { PoisonReasons } from '../../../src/errors.js';
import {
  createPrometheusObserver,
  MaxClusterLabels,
  PrometheusObserver,
} from '../../../src/metrics/prometheus-observer.js';
import { Phase } from '../../../src/worker/observer.js';
import type { RefinementReport } from '../../../src/worker/observer.js';

type Labels = Record<string, string>;

/** Every sample of one metric family (histograms included), as the registry would expose it. */
async function samples(
  registry: Registry,
  family: string,
): Promise<{ name: string; labels: Labels; value: number }[]> {
  const metric = registry.getSingleMetric(family);
  assert.ok(metric, `${family} is registered`);
  const data = await metric.get();
  return data.values.map((v) => {
    const named = v as { metricName?: string };
    const labels: Labels = {};
    for (const [key, value] of Object.entries(v.labels)) labels[key] = String(value);
    return { name: named.metricName ?? family, labels, value: v.value };
  });
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
async function value(
  registry: Registry,
  name: string,
  labels: Labels = {},
  family = name,
): Promise<number | undefined> {
  const matching = (await samples(registry, family)).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(matching.length <= 1, `${name} ${JSON.stringify(labels)} matches one sample`);
  return matching[0]?.value;
}

function fresh(): { registry: Registry; observer: PrometheusObserver } {
  const registry = new Registry();
  return { registry, observer: new PrometheusObserver(registry) };
}

const accepted: RefinementReport = {
  accepted: true,
  durationSeconds: 0.2,
  loss: 0.05,
  centroidShift: 0.01,
  labelChangeFraction: 0.02,
};

void describe('PrometheusObserver', () => {
  void test('every metric name starts with decstream_ and counters end in _total', () => {
    const { registry } = fresh();
    const metrics = registry.getMetricsAsArray();
    assert.ok(metrics.length >= 30);
    for (const metric of metrics) {
      assert.match(metric.name, /^decstream_[a-z0-9_]+$/);
      if (metric.type === ('counter' as unknown)) assert.match(metric.name, /_total$/);
    }
  });

  void test('recordsConsumed() adds to decstream_records_consumed_total', async () => {
    const { registry, observer } = fresh();
    assert.equal(await value(registry, 'decstream_records_consumed_total'), 0);
    observer.recordsConsumed(5);
    observer.recordsConsumed(3);
    assert.equal(await value(registry, 'decstream_records_consumed_total'), 8);
  });

  void test('recordsProcessed() counts by outcome and ignores counts that are not positive numbers', async () => {
    const { registry, observer } = fresh();
    observer.recordsProcessed('labelled', 10);
    observer.recordsProcessed('dead-lettered', 2);
    observer.recordsProcessed('labelled', Number.NaN);
    observer.recordsProcessed('labelled', -4);
    assert.equal(await value(registry, 'decstream_records_total', { outcome: 'labelled' }), 10);
    assert.equal(await value(registry, 'decstream_records_total', { outcome: 'dead-lettered' }), 2);
  });

  void test('deadLettered() counts by reason and folds unknown reasons beyond the limit into other', async () => {
    const { registry, observer } = fresh();
    observer.deadLettered('non-finite', 2);
    observer.deadLettered('undecodable', 1);
    for (let i = 0; i < 40; i++) observer.deadLettered(`made-up-${i}`, 1);
    assert.equal(
      await value(registry, 'decstream_dead_letters_total', { reason: 'non-finite' }),
      2,
    );
    assert.equal(
      await value(registry, 'decstream_dead_letters_total', { reason: 'undecodable' }),
      1,
    );
    const reasons = new Set(
      (await samples(registry, 'decstream_dead_letters_total')).map((s) => s.labels.reason),
    );
    assert.ok(reasons.has('other'));
    const limit = 16 + PoisonReasons.length + 1;
    assert.ok(reasons.size <= limit, `reasons stay bounded, got ${reasons.size}`);
  });

  void test('batch() observes the batch size and the labelling time', async () => {
    const { registry, observer } = fresh();
    observer.batch(100, 0.004);
    observer.batch(7, 0.2);
    assert.equal(
      await value(
        registry,
        'decstream_batch_size_records_count',
        {},
        'decstream_batch_size_records',
      ),
      2,
    );
    assert.equal(
      await value(registry, 'decstream_batch_size_records_sum', {}, 'decstream_batch_size_records'),
      107,
    );
    const bucket = await value(
      registry,
      'decstream_label_duration_seconds_bucket',
      { le: '0.005' },
      'decstream_label_duration_seconds',
    );
    assert.equal(bucket, 1);
  });

  void test('endToEndLatency() observes one value per record', async () => {
    const { registry, observer } = fresh();
    observer.endToEndLatency([0.02, 0.03, 4]);
    const family = 'decstream_end_to_end_latency_seconds';
    assert.equal(await value(registry, `${family}_count`, {}, family), 3);
    assert.equal(await value(registry, `${family}_bucket`, { le: '0.05' }, family), 2);
    assert.equal(await value(registry, `${family}_bucket`, { le: '+Inf' }, family), 3);
  });

  void test('consumerLag() sets one gauge per topic partition and drops partitions not reported for a while', async () => {
    const registry = new Registry();
    let now = 1_000_000;
    const observer = new PrometheusObserver(registry, { now: () => now, lagStaleAfterMs: 60_000 });
    observer.consumerLag('events', 0, 120);
    observer.consumerLag('events', 1, 7);
    observer.consumerLag('events', 0, 80);
    assert.equal(
      await value(registry, 'decstream_consumer_lag_records', { topic: 'events', partition: '0' }),
      80,
    );
    now += 30_000;
    observer.consumerLag('events', 0, 5);
    now += 40_000;
    const series = await samples(registry, 'decstream_consumer_lag_records');
    assert.deepEqual(
      series.map((s) => s.labels.partition),
      ['0'],
      'partition 1 went quiet for longer than the staleness bound',
    );
  });

  void test('phase() sets 1 on the current phase only, and ready follows phase, consumer and model', async () => {
    const { registry, observer } = fresh();
    assert.equal(await value(registry, 'decstream_phase', { phase: 'starting' }), 1);
    observer.phase(Phase.Bootstrapping);
    observer.consumerConnected(true);
    assert.equal(await value(registry, 'decstream_phase', { phase: 'starting' }), 0);
    assert.equal(await value(registry, 'decstream_phase', { phase: 'bootstrapping' }), 1);
    assert.equal(await value(registry, 'decstream_consumer_connected'), 1);
    assert.equal(await value(registry, 'decstream_ready'), 0);
    assert.equal(observer.isReady(), false);

    observer.modelServing({
      version: 1,
      backend: 'wasm',
      inputDims: 4,
      clusters: 3,
      modelKind: 'dec',
    });
    observer.phase(Phase.Online);
    // Connected and online, but no partitions yet: kafkajs reports running before the join.
    assert.equal(await value(registry, 'decstream_ready'), 0);
    observer.partitionsAssigned(2);
    assert.equal(await value(registry, 'decstream_assigned_partitions'), 2);
    assert.equal(await value(registry, 'decstream_ready'), 1);
    assert.equal(observer.isReady(), true);
    // A rebalance that leaves this replica without partitions makes it unready.
    observer.partitionsAssigned(0);
    assert.equal(observer.isReady(), false);
    observer.partitionsAssigned(1);

    observer.consumerConnected(false);
    assert.equal(await value(registry, 'decstream_ready'), 0);
  });

  void test('modelServing() sets the version and one info series describing the model', async () => {
    const { registry, observer } = fresh();
    assert.equal(await value(registry, 'decstream_model_version'), 0);
    observer.modelServing({
      version: 1,
      backend: 'wasm',
      inputDims: 784,
      clusters: 10,
      modelKind: 'dec',
    });
    observer.modelServing({
      version: 2,
      backend: 'cpu',
      inputDims: 784,
      clusters: 10,
      modelKind: 'kmeans',
    });
    assert.equal(await value(registry, 'decstream_model_version'), 2);
    const info = await samples(registry, 'decstream_model_info');
    assert.deepEqual(info, [
      {
        name: 'decstream_model_info',
        labels: { backend: 'cpu', input_dims: '784', clusters: '10', model_kind: 'kmeans' },
        value: 1,
      },
    ]);
  });

  void test('labelledPerCluster() and clusterShares() label by cluster id, never beyond k', async () => {
    const { registry, observer } = fresh();
    observer.modelServing({
      version: 1,
      backend: 'cpu',
      inputDims: 2,
      clusters: 3,
      modelKind: 'dec',
    });
    observer.labelledPerCluster([4, 0, 6, 99]);
    observer.labelledPerCluster([1, 2, 0]);
    observer.clusterShares([0.5, 0.2, 0.3, 0.9]);
    const counts = await samples(registry, 'decstream_cluster_records_total');
    assert.deepEqual(Object.fromEntries(counts.map((s) => [s.labels.cluster, s.value])), {
      '0': 5,
      '1': 2,
      '2': 6,
    });
    const shares = await samples(registry, 'decstream_cluster_share_ratio');
    assert.deepEqual(Object.fromEntries(shares.map((s) => [s.labels.cluster, s.value])), {
      '0': 0.5,
      '1': 0.2,
      '2': 0.3,
    });
  });

  void test('a model with fewer clusters removes the shares of clusters that no longer exist', async () => {
    const { registry, observer } = fresh();
    observer.modelServing({
      version: 1,
      backend: 'cpu',
      inputDims: 2,
      clusters: 4,
      modelKind: 'dec',
    });
    observer.clusterShares([0.25, 0.25, 0.25, 0.25]);
    observer.modelServing({
      version: 2,
      backend: 'cpu',
      inputDims: 2,
      clusters: 2,
      modelKind: 'dec',
    });
    const shares = await samples(registry, 'decstream_cluster_share_ratio');
    assert.deepEqual(shares.map((s) => s.labels.cluster).sort(), ['0', '1']);
  });

  void test('clusters are labelled by their published ids; a retired id keeps its counts and loses its share', async () => {
    const { registry, observer } = fresh();
    const serve = (version: number, clusterIds: number[]): void =>
      observer.modelServing({
        version,
        backend: 'cpu',
        inputDims: 2,
        clusters: 3,
        clusterIds,
        modelKind: 'dec',
      });
    serve(1, [0, 1, 2]);
    observer.labelledPerCluster([1, 2, 3]);
    observer.clusterShares([0.2, 0.3, 0.5]);
    // Version 2 re-seeded cluster 2 with a new group: it is published as 3, and 2 is retired.
    observer.clusterReseeded(2);
    observer.clusterReseeded(7); // never published: not a series
    serve(2, [0, 1, 3]);
    observer.labelledPerCluster([1, 1, 4]);
    observer.clusterShares([0.25, 0.25, 0.5]);
    const counts = await samples(registry, 'decstream_cluster_records_total');
    assert.deepEqual(Object.fromEntries(counts.map((c) => [c.labels.cluster, c.value])), {
      '0': 2,
      '1': 3,
      '2': 3,
      '3': 4,
    });
    const shares = await samples(registry, 'decstream_cluster_share_ratio');
    assert.deepEqual(Object.fromEntries(shares.map((c) => [c.labels.cluster, c.value])), {
      '0': 0.25,
      '1': 0.25,
      '3': 0.5,
    });
    const reseeds = await samples(registry, 'decstream_cluster_reseeds_total');
    assert.deepEqual(
      reseeds.filter((r) => r.value > 0).map((r) => r.labels.cluster),
      ['2'],
    );
  });

  void test('cluster labels stay bounded before any model is known', async () => {
    const { registry, observer } = fresh();
    observer.clusterShares(new Array<number>(MaxClusterLabels + 50).fill(0.001));
    const shares = await samples(registry, 'decstream_cluster_share_ratio');
    assert.equal(shares.length, MaxClusterLabels);
  });

  void test('confidence() observes a whole batch into the histogram', async () => {
    const { registry, observer } = fresh();
    observer.confidence(Float32Array.from([0.35, 0.92, 0.97, 1, Number.NaN]));
    const family = 'decstream_assignment_confidence';
    assert.equal(await value(registry, `${family}_count`, {}, family), 4);
    assert.equal(await value(registry, `${family}_bucket`, { le: '0.4' }, family), 1);
    assert.equal(await value(registry, `${family}_bucket`, { le: '0.95' }, family), 2);
    const sum = await value(registry, `${family}_sum`, {}, family);
    assert.ok(sum !== undefined && Math.abs(sum - 3.24) < 1e-6);
  });

  void test('refinement() counts results, records duration, loss, shift and rejections in a row', async () => {
    const registry = new Registry();
    const observer = new PrometheusObserver(registry, { now: () => 1_700_000_000_000 });
    observer.refinement({ ...accepted, rejectReason: undefined });
    observer.refinement({ ...accepted, accepted: false, rejectReason: 'nan', loss: Number.NaN });
    observer.refinement({
      ...accepted,
      accepted: false,
      rejectReason: 'shift-bound',
      centroidShift: 3,
    });
    assert.equal(await value(registry, 'decstream_refinements_total', { result: 'accepted' }), 1);
    assert.equal(await value(registry, 'decstream_refinements_total', { result: 'rejected' }), 2);
    assert.equal(
      await value(registry, 'decstream_refinement_rejections_total', { reason: 'nan' }),
      1,
    );
    assert.equal(
      await value(registry, 'decstream_refinement_rejections_total', { reason: 'shift-bound' }),
      1,
    );
    assert.equal(await value(registry, 'decstream_refine_consecutive_failures'), 2);
    assert.equal(await value(registry, 'decstream_refine_centroid_shift'), 3);
    assert.equal(await value(registry, 'decstream_refine_label_change_ratio'), 0.02);
    assert.equal(
      await value(registry, 'decstream_refine_last_accepted_timestamp_seconds'),
      1_700_000_000,
    );
    assert.equal(
      await value(
        registry,
        'decstream_refine_duration_seconds_count',
        {},
        'decstream_refine_duration_seconds',
      ),
      3,
    );
    observer.refinement(accepted);
    assert.equal(await value(registry, 'decstream_refine_consecutive_failures'), 0);
    assert.equal(await value(registry, 'decstream_refine_loss'), 0.05);
  });

  void test('clusterReseeded() counts by cluster, each of the k clusters starting at 0', async () => {
    const { registry, observer } = fresh();
    observer.modelServing({
      version: 1,
      backend: 'cpu',
      inputDims: 2,
      clusters: 3,
      modelKind: 'dec',
    });
    observer.clusterReseeded(2);
    observer.clusterReseeded(2);
    observer.clusterReseeded(7);
    const series = await samples(registry, 'decstream_cluster_reseeds_total');
    assert.deepEqual(
      series.map((s) => [s.labels.cluster, s.value]),
      [
        ['0', 0],
        ['1', 0],
        ['2', 2],
      ],
    );
  });

  void test('drift() sets the four drift gauges', async () => {
    const { registry, observer } = fresh();
    observer.drift({
      psi: 0.3,
      reconstructionErrorRatio: 1.8,
      labelChangeRate: 0.1,
      meanConfidence: 0.7,
    });
    assert.equal(await value(registry, 'decstream_drift_psi'), 0.3);
    assert.equal(await value(registry, 'decstream_drift_reconstruction_error_ratio'), 1.8);
    assert.equal(await value(registry, 'decstream_drift_label_change_ratio'), 0.1);
    assert.equal(await value(registry, 'decstream_drift_mean_confidence'), 0.7);
  });

  void test('retrain() counts shadows by outcome; only a promotion sets the label-change ratio', async () => {
    const { registry, observer } = fresh();
    assert.equal(await value(registry, 'decstream_retrains_total', { outcome: 'promoted' }), 0);
    observer.retrain({ outcome: 'trained', durationSeconds: 42 });
    observer.retrain({
      outcome: 'promoted',
      durationSeconds: 1,
      servingScore: 0.05,
      shadowScore: 0.03,
      labelChangeRatio: 0.02,
    });
    observer.retrain({
      outcome: 'discarded',
      durationSeconds: 1,
      servingScore: 0.03,
      shadowScore: 0.04,
      labelChangeRatio: 0.4,
    });
    assert.equal(await value(registry, 'decstream_retrains_total', { outcome: 'trained' }), 1);
    assert.equal(await value(registry, 'decstream_retrains_total', { outcome: 'promoted' }), 1);
    assert.equal(await value(registry, 'decstream_retrains_total', { outcome: 'discarded' }), 1);
    assert.equal(
      await value(
        registry,
        'decstream_retrain_duration_seconds_count',
        {},
        'decstream_retrain_duration_seconds',
      ),
      1,
    );
    assert.equal(await value(registry, 'decstream_promotion_label_change_ratio'), 0.02);
    assert.equal(await value(registry, 'decstream_promotion_criterion', { model: 'shadow' }), 0.04);
    assert.equal(
      await value(registry, 'decstream_promotion_criterion', { model: 'serving' }),
      0.03,
    );
  });

  void test('bootstrap() tracks records collected, the stage, its epoch and loss', async () => {
    const { registry, observer } = fresh();
    observer.bootstrap({ recordsCollected: 500 });
    observer.bootstrap({ trainingPhase: 'pretrain', epoch: 3, loss: 0.4 });
    assert.equal(await value(registry, 'decstream_bootstrap_collected_records'), 500);
    assert.equal(await value(registry, 'decstream_bootstrap_stage', { stage: 'pretrain' }), 1);
    assert.equal(await value(registry, 'decstream_bootstrap_epoch'), 3);
    assert.equal(await value(registry, 'decstream_bootstrap_loss'), 0.4);
    observer.bootstrap({ trainingPhase: 'cluster', epoch: 1 });
    assert.equal(await value(registry, 'decstream_bootstrap_stage', { stage: 'pretrain' }), 0);
    assert.equal(await value(registry, 'decstream_bootstrap_stage', { stage: 'cluster' }), 1);
    assert.equal(
      await value(registry, 'decstream_bootstrap_loss'),
      0.4,
      'no loss reported keeps the last',
    );
    observer.phase(Phase.Online);
    assert.equal(await value(registry, 'decstream_bootstrap_stage', { stage: 'cluster' }), 0);
  });

  void test('snapshotWritten() counts writes and failures and stamps the last success', async () => {
    const registry = new Registry();
    const observer = new PrometheusObserver(registry, { now: () => 1_700_000_123_000 });
    observer.snapshotWritten(true);
    observer.snapshotWritten(false);
    observer.snapshotWritten(false);
    assert.equal(await value(registry, 'decstream_snapshot_writes_total', { result: 'ok' }), 1);
    assert.equal(await value(registry, 'decstream_snapshot_writes_total', { result: 'failed' }), 2);
    assert.equal(
      await value(registry, 'decstream_snapshot_last_success_timestamp_seconds'),
      1_700_000_123,
    );
  });
});

void describe('createPrometheusObserver', () => {
  void test('registers the default Node.js metrics next to the decstream_ ones', async () => {
    const { registry, observer } = createPrometheusObserver();
    observer.recordsConsumed(1);
    const text = await registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.match(text, /^decstream_records_consumed_total 1$/m);
  });

  void test('without default metrics the registry holds only decstream_ metrics', () => {
    const { registry } = createPrometheusObserver({ defaultMetrics: false });
    for (const metric of registry.getMetricsAsArray()) assert.match(metric.name, /^decstream_/);
  });
});

void test('decstream_tensors reads the live tensor count at each scrape, and exists only when a count is given', async () => {
  let live = 7;
  const { registry } = createPrometheusObserver({ defaultMetrics: false, tensorCount: () => live });
  assert.equal(await value(registry, 'decstream_tensors'), 7);
  live = 9;
  assert.equal(await value(registry, 'decstream_tensors'), 9);
  const without = createPrometheusObserver({ defaultMetrics: false });
  assert.equal(without.registry.getSingleMetric('decstream_tensors'), undefined);
});
