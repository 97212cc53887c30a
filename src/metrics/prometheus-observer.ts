import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PoisonReasons } from '../errors.js';
import { TrainingPhases } from '../model/types.js';
import { RejectReasons } from '../online/refinement-policy.js';
import {
  Phase,
  RecordOutcomes,
  RefinementResults,
  RetrainOutcomes,
  SnapshotWriteResults,
} from '../worker/observer.js';
import type {
  BootstrapReport,
  DriftReport,
  ModelInfo,
  RecordOutcome,
  RefinementReport,
  RetrainReport,
  WorkerObserver,
} from '../worker/observer.js';
import { ModelSkipReasons } from '../worker/ports.js';
import { BoundedLabel } from './bounded-label.js';
import { BulkHistogram } from './bulk-histogram.js';

/** Every metric name starts with this. */
export const MetricPrefix = 'decstream_';

/** Cluster labels never exceed this many distinct values, whatever a model claims its k is. */
export const MaxClusterLabels = 256;

/** A partition whose lag was not reported for this long is dropped (it was most likely revoked). */
export const DefaultLagStaleAfterMs = 5 * 60_000;

const phases: readonly Phase[] = Object.values(Phase);

const latencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const labelDurationBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const batchSizeBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const confidenceBuckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];
const refineDurationBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface PrometheusObserverOptions {
  /** Drop a partition's lag series after this long without a report; default five minutes. */
  readonly lagStaleAfterMs?: number;
  /** Clock for the staleness of lag series and the last-success timestamps (tests). */
  readonly now?: () => number;
  /**
   * Live tensors of the main thread's tensor engine, read at each scrape: flat in a healthy
   * worker, rising with a tensor leak. Without it the gauge is not registered.
   */
  readonly tensorCount?: () => number;
}

/** A count the worker reported, or 0 when it is not a positive finite number. */
function positive(count: number): number {
  return Number.isFinite(count) && count > 0 ? count : 0;
}

/**
 * Turns what the worker reports into `decstream_*` metrics in one prom-client Registry.
 *
 * Label cardinality is bounded: clusters are labelled by the k ids the serving version publishes
 * (at most MaxClusterLabels); an id retired when its cluster became a new group keeps its counter
 * series and loses its share, so the counters gain one series per retired id, a rare event.
 * Reasons pass through a BoundedLabel, partitions are those of the input topic; nothing is ever
 * labelled by record or key. Observer methods never throw: a bad value is dropped, so metrics
 * cannot stop the worker.
 */
export class PrometheusObserver implements WorkerObserver {
  readonly registry: Registry;

  private readonly recordsConsumedTotal: Counter;
  private readonly recordsTotal: Counter<'outcome'>;
  private readonly deadLettersTotal: Counter<'reason'>;
  private readonly batchSize: Histogram;
  private readonly labelDuration: Histogram;
  private readonly endToEndLatencySeconds: BulkHistogram;
  private readonly consumerLagRecords: Gauge<'topic' | 'partition'>;
  private readonly consumerConnectedGauge: Gauge;
  private readonly assignedPartitionsGauge: Gauge;
  private readonly phaseGauge: Gauge<'phase'>;
  private readonly readyGauge: Gauge;
  private readiness: (() => boolean) | undefined;
  private readonly modelVersion: Gauge;
  private readonly modelInfo: Gauge<'backend' | 'input_dims' | 'clusters' | 'model_kind'>;
  private readonly clusterRecordsTotal: Counter<'cluster'>;
  private readonly clusterShareRatio: Gauge<'cluster'>;
  private readonly assignmentConfidence: BulkHistogram;
  private readonly refinementsTotal: Counter<'result'>;
  private readonly refinementRejectionsTotal: Counter<'reason'>;
  private readonly refineDuration: Histogram;
  private readonly refineLoss: Gauge;
  private readonly refineCentroidShift: Gauge;
  private readonly refineLabelChangeRatio: Gauge;
  private readonly refineConsecutiveFailures: Gauge;
  private readonly refineLastAcceptedTimestamp: Gauge;
  private readonly clusterReseedsTotal: Counter<'cluster'>;
  private readonly retrainsTotal: Counter<'outcome'>;
  private readonly retrainDuration: Histogram;
  private readonly promotionCriterion: Gauge<'model'>;
  private readonly promotionLabelChangeRatio: Gauge;
  private readonly driftPsi: Gauge;
  private readonly driftReconstructionErrorRatio: Gauge;
  private readonly driftLabelChangeRatio: Gauge;
  private readonly driftMeanConfidence: Gauge;
  private readonly bootstrapCollectedRecords: Gauge;
  private readonly bootstrapStage: Gauge<'stage'>;
  private readonly bootstrapEpoch: Gauge;
  private readonly bootstrapLoss: Gauge;
  private readonly snapshotWritesTotal: Counter<'result'>;
  private readonly snapshotLastSuccessTimestamp: Gauge;
  private readonly trainerGauge: Gauge;
  private readonly modelVersionsSkippedTotal: Counter<'reason'>;

  private readonly deadLetterReasons = new BoundedLabel(16, PoisonReasons);
  private readonly rejectReasons = new BoundedLabel(8, RejectReasons);
  private readonly skipReasons = new BoundedLabel(8, ModelSkipReasons);
  private readonly stages = new BoundedLabel(4, TrainingPhases);
  private readonly topics = new BoundedLabel(8);
  private readonly lagUpdatedAt = new Map<
    string,
    { topic: string; partition: string; at: number }
  >();
  private readonly lagStaleAfterMs: number;
  private readonly now: () => number;

  private currentPhase: Phase = Phase.Starting;
  private connected = false;
  private assignedPartitions = 0;
  private serving = false;
  /** The serving version's published id of each cluster; before one serves, the indices. */
  private clusterIds: readonly number[] = Array.from({ length: MaxClusterLabels }, (_, c) => c);
  /** Every id a version has published: a re-seed is counted under the id it retires. */
  private readonly servedIds = new Set<number>();
  /** Ids that have a share series. */
  private readonly sharedIds = new Set<number>();
  private currentStage: string | undefined;
  private consecutiveFailures = 0;

  // eslint-disable-next-line max-lines-per-function -- declares every metric with its help text, one after another: the catalogue of what the worker exports
  constructor(registry: Registry, options: PrometheusObserverOptions = {}) {
    this.registry = registry;
    this.lagStaleAfterMs = options.lagStaleAfterMs ?? DefaultLagStaleAfterMs;
    this.now = options.now ?? Date.now;
    const registers = [registry];
    const name = (suffix: string): string => `${MetricPrefix}${suffix}`;

    this.recordsConsumedTotal = new Counter({
      name: name('records_consumed_total'),
      help: 'Records read from the input topic.',
      registers,
    });
    this.recordsTotal = new Counter({
      name: name('records_total'),
      help: 'Records processed, by outcome: labelled (written to the output topic) or dead-lettered.',
      labelNames: ['outcome'],
      registers,
    });
    this.deadLettersTotal = new Counter({
      name: name('dead_letters_total'),
      help: 'Records sent to the dead-letter topic, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.batchSize = new Histogram({
      name: name('batch_size_records'),
      help: 'Records per labelled batch.',
      buckets: batchSizeBuckets,
      registers,
    });
    this.labelDuration = new Histogram({
      name: name('label_duration_seconds'),
      help: 'Time to label one batch: features, standardisation and assignment.',
      buckets: labelDurationBuckets,
      registers,
    });
    this.endToEndLatencySeconds = new BulkHistogram({
      name: name('end_to_end_latency_seconds'),
      help: 'From a record timestamp to its labelled record being acknowledged downstream.',
      buckets: latencyBuckets,
      registers,
    });
    const lagUpdatedAt = this.lagUpdatedAt;
    const now = this.now;
    const lagStaleAfterMs = this.lagStaleAfterMs;
    this.consumerLagRecords = new Gauge({
      name: name('consumer_lag_records'),
      help: 'Records between the committed offset and the end of each assigned input partition.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        const oldest = now() - lagStaleAfterMs;
        for (const [key, entry] of lagUpdatedAt) {
          if (entry.at < oldest) {
            this.remove({ topic: entry.topic, partition: entry.partition });
            lagUpdatedAt.delete(key);
          }
        }
      },
    });
    this.consumerConnectedGauge = new Gauge({
      name: name('consumer_connected'),
      help: '1 while the Kafka consumer is connected and in its group, else 0.',
      registers,
    });
    this.assignedPartitionsGauge = new Gauge({
      name: name('assigned_partitions'),
      help: 'Input partitions this worker holds after the consumer group’s latest assignment.',
      registers,
    });
    this.phaseGauge = new Gauge({
      name: name('phase'),
      help: 'Lifecycle phase: 1 on the current phase, 0 on the others.',
      labelNames: ['phase'],
      registers,
    });
    const readiness = (): boolean => this.readiness?.() ?? this.isReady();
    this.readyGauge = new Gauge({
      name: name('ready'),
      help: '1 while a model serves, the consumer holds input partitions, the brokers answer and the worker is online (what /readyz answers), else 0.',
      registers,
      collect() {
        this.set(readiness() ? 1 : 0);
      },
    });
    this.modelVersion = new Gauge({
      name: name('model_version'),
      help: 'Version of the model now serving; 0 before the first model.',
      registers,
    });
    this.modelInfo = new Gauge({
      name: name('model_info'),
      help: 'Always 1; its labels describe the model now serving: backend, input dims, clusters (k) and model_kind (dec, or kmeans when the guard chose k-means on the inputs).',
      labelNames: ['backend', 'input_dims', 'clusters', 'model_kind'],
      registers,
    });
    this.clusterRecordsTotal = new Counter({
      name: name('cluster_records_total'),
      help: 'Labelled records, by the cluster they were assigned to.',
      labelNames: ['cluster'],
      registers,
    });
    this.clusterShareRatio = new Gauge({
      name: name('cluster_share_ratio'),
      help: "Each cluster's current share of recent records (a decaying average; shares sum to 1).",
      labelNames: ['cluster'],
      registers,
    });
    this.assignmentConfidence = new BulkHistogram({
      name: name('assignment_confidence'),
      help: 'Confidence of each assignment: the soft assignment q of the chosen cluster (1/k to 1).',
      buckets: confidenceBuckets,
      registers,
    });
    this.refinementsTotal = new Counter({
      name: name('refinements_total'),
      help: 'Mini-batch refinements, by result: accepted (a new model version) or rejected.',
      labelNames: ['result'],
      registers,
    });
    this.refinementRejectionsTotal = new Counter({
      name: name('refinement_rejections_total'),
      help: 'Rejected refinements, by reason (nan, loss-bound, shift-bound, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.refineDuration = new Histogram({
      name: name('refine_duration_seconds'),
      help: 'Time one refinement took, accepted or not.',
      buckets: refineDurationBuckets,
      registers,
    });
    this.refineLoss = new Gauge({
      name: name('refine_loss'),
      help: 'KL loss of the last refinement.',
      registers,
    });
    this.refineCentroidShift = new Gauge({
      name: name('refine_centroid_shift'),
      help: 'How far the last refinement moved the centroids (embedding-space distance).',
      registers,
    });
    this.refineLabelChangeRatio = new Gauge({
      name: name('refine_label_change_ratio'),
      help: "Fraction of the last refinement's batch whose label changed under the refined model.",
      registers,
    });
    this.refineConsecutiveFailures = new Gauge({
      name: name('refine_consecutive_failures'),
      help: 'Refinements rejected in a row since the last accepted one.',
      registers,
    });
    this.refineLastAcceptedTimestamp = new Gauge({
      name: name('refine_last_accepted_timestamp_seconds'),
      help: 'Unix time of the last accepted refinement; 0 before the first.',
      registers,
    });
    this.clusterReseedsTotal = new Counter({
      name: name('cluster_reseeds_total'),
      help: 'Dying or fading clusters whose centroid was re-seeded, by cluster.',
      labelNames: ['cluster'],
      registers,
    });
    this.retrainsTotal = new Counter({
      name: name('retrains_total'),
      help: 'Background retrains (shadow models), by outcome: trained, failed, promoted, discarded.',
      labelNames: ['outcome'],
      registers,
    });
    this.retrainDuration = new Histogram({
      name: name('retrain_duration_seconds'),
      help: 'Time one background retrain took to train its shadow model.',
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 2400],
      registers,
    });
    this.promotionCriterion = new Gauge({
      name: name('promotion_criterion'),
      help: 'Criterion (mean normalised cut plus merged share, lower is better) of the last judged shadow and of the serving model, on the same held-out records.',
      labelNames: ['model'],
      registers,
    });
    this.promotionLabelChangeRatio = new Gauge({
      name: name('promotion_label_change_ratio'),
      help: 'Fraction of recent records whose cluster id changed at the last promotion, after Hungarian matching.',
      registers,
    });
    this.driftPsi = new Gauge({
      name: name('drift_psi'),
      help: 'Population stability index of current cluster shares against the bootstrap shares.',
      registers,
    });
    this.driftReconstructionErrorRatio = new Gauge({
      name: name('drift_reconstruction_error_ratio'),
      help: "Mean reconstruction error of recent records divided by the bootstrap window's.",
      registers,
    });
    this.driftLabelChangeRatio = new Gauge({
      name: name('drift_label_change_ratio'),
      help: 'Fraction of the recent window whose label changed when it was re-assigned.',
      registers,
    });
    this.driftMeanConfidence = new Gauge({
      name: name('drift_mean_confidence'),
      help: 'Mean assignment confidence over the recent window.',
      registers,
    });
    this.bootstrapCollectedRecords = new Gauge({
      name: name('bootstrap_collected_records'),
      help: 'Records collected for the bootstrap window so far.',
      registers,
    });
    this.bootstrapStage = new Gauge({
      name: name('bootstrap_stage'),
      help: 'Bootstrap training stage: 1 on the current stage (pretrain, kmeans, cluster), 0 on the others.',
      labelNames: ['stage'],
      registers,
    });
    this.bootstrapEpoch = new Gauge({
      name: name('bootstrap_epoch'),
      help: 'Epoch (pretrain), restart (kmeans) or iteration (cluster) of the current bootstrap stage, 1-based.',
      registers,
    });
    this.bootstrapLoss = new Gauge({
      name: name('bootstrap_loss'),
      help: 'Loss of the current bootstrap stage at its last step.',
      registers,
    });
    this.snapshotWritesTotal = new Counter({
      name: name('snapshot_writes_total'),
      help: 'Model snapshot writes, by result: ok or failed.',
      labelNames: ['result'],
      registers,
    });
    this.snapshotLastSuccessTimestamp = new Gauge({
      name: name('snapshot_last_success_timestamp_seconds'),
      help: 'Unix time of the last snapshot written; 0 before the first.',
      registers,
    });
    this.trainerGauge = new Gauge({
      name: name('trainer'),
      help: '1 while this replica holds the trainer’s role (it bootstraps, refines and publishes the model versions every replica serves), else 0. Without DEC_SCALE_OUT every replica trains its own model and reports 1.',
      registers,
    });
    this.modelVersionsSkippedTotal = new Counter({
      name: name('model_versions_skipped_total'),
      help: 'Model versions read from the models topic and not served, by reason: bad-manifest, missing-chunk, checksum, undecodable. The version before keeps serving.',
      labelNames: ['reason'],
      registers,
    });
    const tensorCount = options.tensorCount;
    if (tensorCount !== undefined) {
      new Gauge({
        name: name('tensors'),
        help: "Live tensors in the main thread's tensor engine, read at each scrape.",
        registers,
        collect() {
          this.set(tensorCount());
        },
      });
    }

    this.initialiseSeries();
  }

  /**
   * Every series the dashboard and the alert rules read, at its starting value for each known label
   * value. A counter that appears only at its first event reads "No data" in Grafana until then,
   * and `rate()`/`increase()` miss that first event altogether (there is no earlier sample).
   * Cluster-labelled series follow in modelServing(), once k is known.
   */
  private initialiseSeries(): void {
    this.recordsConsumedTotal.inc(0);
    for (const outcome of RecordOutcomes) this.recordsTotal.inc({ outcome }, 0);
    for (const reason of PoisonReasons) this.deadLettersTotal.inc({ reason }, 0);
    for (const result of RefinementResults) this.refinementsTotal.inc({ result }, 0);
    for (const reason of RejectReasons) this.refinementRejectionsTotal.inc({ reason }, 0);
    for (const outcome of RetrainOutcomes) this.retrainsTotal.inc({ outcome }, 0);
    for (const result of SnapshotWriteResults) this.snapshotWritesTotal.inc({ result }, 0);
    for (const reason of ModelSkipReasons) this.modelVersionsSkippedTotal.inc({ reason }, 0);
    this.trainerGauge.set(0);
    this.consumerConnectedGauge.set(0);
    this.assignedPartitionsGauge.set(0);
    this.readyGauge.set(0);
    this.modelVersion.set(0);
    this.refineConsecutiveFailures.set(0);
    this.refineLastAcceptedTimestamp.set(0);
    this.snapshotLastSuccessTimestamp.set(0);
    for (const stage of TrainingPhases) this.bootstrapStage.set({ stage }, 0);
    this.setPhaseGauge(Phase.Starting);
  }

  phase(phase: Phase): void {
    if (!phases.includes(phase)) return;
    this.currentPhase = phase;
    this.setPhaseGauge(phase);
    if (phase !== Phase.Bootstrapping && this.currentStage !== undefined) {
      // Training is over: no stage runs.
      this.bootstrapStage.set({ stage: this.currentStage }, 0);
      this.currentStage = undefined;
    }
    this.updateReady();
  }

  consumerConnected(connected: boolean): void {
    this.connected = connected;
    this.consumerConnectedGauge.set(connected ? 1 : 0);
    if (!connected) this.partitionsAssigned(0);
    this.updateReady();
  }

  partitionsAssigned(count: number): void {
    this.assignedPartitions = Number.isInteger(count) && count > 0 ? count : 0;
    this.assignedPartitionsGauge.set(this.assignedPartitions);
    this.updateReady();
  }

  recordsConsumed(count: number): void {
    this.recordsConsumedTotal.inc(positive(count));
  }

  recordsProcessed(outcome: RecordOutcome, count: number): void {
    if (!RecordOutcomes.includes(outcome)) return;
    this.recordsTotal.inc({ outcome }, positive(count));
  }

  deadLettered(reason: string, count: number): void {
    const n = positive(count);
    if (n > 0) this.deadLettersTotal.inc({ reason: this.deadLetterReasons.value(reason) }, n);
  }

  batch(size: number, labelSeconds: number): void {
    if (Number.isFinite(size) && size >= 0) this.batchSize.observe(size);
    if (Number.isFinite(labelSeconds) && labelSeconds >= 0)
      this.labelDuration.observe(labelSeconds);
  }

  endToEndLatency(seconds: readonly number[]): void {
    this.endToEndLatencySeconds.observeMany(seconds);
  }

  consumerLag(topic: string, partition: number, lag: number): void {
    if (!Number.isInteger(partition) || partition < 0 || !Number.isFinite(lag)) return;
    const labels = { topic: this.topics.value(topic), partition: String(partition) };
    this.consumerLagRecords.set(labels, Math.max(0, lag));
    this.lagUpdatedAt.set(`${labels.topic}\u0000${labels.partition}`, {
      ...labels,
      at: this.now(),
    });
  }

  modelServing(info: ModelInfo): void {
    const k = Math.min(Math.max(0, Math.floor(info.clusters)), MaxClusterLabels);
    this.modelInfo.reset();
    this.modelInfo.set(
      {
        backend: info.backend,
        input_dims: String(info.inputDims),
        clusters: String(info.clusters),
        model_kind: info.modelKind,
      },
      1,
    );
    if (Number.isFinite(info.version)) this.modelVersion.set(info.version);
    if (k > 0) {
      const ids = (info.clusterIds ?? Array.from({ length: k }, (_, c) => c)).slice(0, k);
      // Ids the new version does not publish (a smaller model, a retired id) lose their shares.
      const live = new Set(ids);
      for (const id of [...this.sharedIds].filter((id) => !live.has(id))) {
        this.clusterShareRatio.remove({ cluster: String(id) });
        this.sharedIds.delete(id);
      }
      this.clusterIds = ids;
      for (const id of ids) this.servedIds.add(id);
      this.initialiseClusterCounters(ids);
    }
    this.serving = true;
    this.updateReady();
  }

  labelledPerCluster(counts: readonly number[]): void {
    const n = Math.min(counts.length, this.clusterIds.length);
    for (let c = 0; c < n; c++) {
      const count = positive(counts[c]!);
      const cluster = String(this.clusterIds[c]);
      if (count > 0) this.clusterRecordsTotal.inc({ cluster }, count);
    }
  }

  clusterShares(shares: readonly number[]): void {
    const n = Math.min(shares.length, this.clusterIds.length);
    for (let c = 0; c < n; c++) {
      const share = shares[c]!;
      const id = this.clusterIds[c]!;
      if (!Number.isFinite(share)) continue;
      this.clusterShareRatio.set({ cluster: String(id) }, share);
      this.sharedIds.add(id);
    }
  }

  confidence(values: ArrayLike<number>): void {
    this.assignmentConfidence.observeMany(values);
  }

  refinement(report: RefinementReport): void {
    this.refinementsTotal.inc({ result: report.accepted ? 'accepted' : 'rejected' });
    if (Number.isFinite(report.durationSeconds) && report.durationSeconds >= 0) {
      this.refineDuration.observe(report.durationSeconds);
    }
    // NaN is the honest value of a diverged step; Prometheus stores it.
    this.refineLoss.set(report.loss);
    this.refineCentroidShift.set(report.centroidShift);
    this.refineLabelChangeRatio.set(report.labelChangeFraction);
    if (report.accepted) {
      this.consecutiveFailures = 0;
      this.refineLastAcceptedTimestamp.set(this.now() / 1000);
    } else {
      this.consecutiveFailures++;
      const reason = this.rejectReasons.value(report.rejectReason ?? 'unknown');
      this.refinementRejectionsTotal.inc({ reason });
    }
    this.refineConsecutiveFailures.set(this.consecutiveFailures);
  }

  clusterReseeded(cluster: number): void {
    if (!this.servedIds.has(cluster)) return;
    this.clusterReseedsTotal.inc({ cluster: String(cluster) });
  }

  retrain(report: RetrainReport): void {
    this.retrainsTotal.inc({ outcome: report.outcome });
    const trained = report.outcome === 'trained' || report.outcome === 'failed';
    if (trained && Number.isFinite(report.durationSeconds) && report.durationSeconds >= 0) {
      this.retrainDuration.observe(report.durationSeconds);
    }
    if (report.servingScore !== undefined)
      this.promotionCriterion.set({ model: 'serving' }, report.servingScore);
    if (report.shadowScore !== undefined)
      this.promotionCriterion.set({ model: 'shadow' }, report.shadowScore);
    if (report.outcome === 'promoted' && report.labelChangeRatio !== undefined)
      this.promotionLabelChangeRatio.set(report.labelChangeRatio);
  }

  drift(report: DriftReport): void {
    this.driftPsi.set(report.psi);
    this.driftReconstructionErrorRatio.set(report.reconstructionErrorRatio);
    this.driftLabelChangeRatio.set(report.labelChangeRate);
    this.driftMeanConfidence.set(report.meanConfidence);
  }

  bootstrap(report: BootstrapReport): void {
    if (report.recordsCollected !== undefined && Number.isFinite(report.recordsCollected)) {
      this.bootstrapCollectedRecords.set(report.recordsCollected);
    }
    if (report.trainingPhase !== undefined) {
      const stage = this.stages.value(report.trainingPhase);
      if (stage !== this.currentStage) {
        if (this.currentStage !== undefined)
          this.bootstrapStage.set({ stage: this.currentStage }, 0);
        this.bootstrapStage.set({ stage }, 1);
        this.currentStage = stage;
      }
    }
    if (report.epoch !== undefined && Number.isFinite(report.epoch)) {
      this.bootstrapEpoch.set(report.epoch);
    }
    if (report.loss !== undefined) this.bootstrapLoss.set(report.loss);
  }

  snapshotWritten(ok: boolean): void {
    this.snapshotWritesTotal.inc({ result: ok ? 'ok' : 'failed' });
    if (ok) this.snapshotLastSuccessTimestamp.set(this.now() / 1000);
  }

  trainerRole(active: boolean): void {
    this.trainerGauge.set(active ? 1 : 0);
  }

  modelVersionSkipped(reason: string): void {
    this.modelVersionsSkippedTotal.inc({ reason: this.skipReasons.value(reason) });
  }

  /**
   * The published ids at 0 (a counter that already counted keeps its value), so the per-cluster
   * panels and their sums read 0 rather than "No data" until a record or a re-seed is counted.
   */
  private initialiseClusterCounters(ids: readonly number[]): void {
    for (const id of ids) {
      const cluster = String(id);
      this.clusterRecordsTotal.inc({ cluster }, 0);
      this.clusterReseedsTotal.inc({ cluster }, 0);
    }
  }

  /**
   * Reads readiness from the worker itself at each scrape, so the gauge and /readyz cannot
   * disagree (the worker also knows when the brokers last answered).
   */
  readFrom(source: () => boolean): void {
    this.readiness = source;
  }

  /** What /readyz answers, as this observer has seen it (until readFrom() names the worker). */
  isReady(): boolean {
    // Connected is not enough: kafkajs reports the consumer running before it has joined the
    // group, and a replica beyond the partition count holds nothing to label.
    return (
      this.serving &&
      this.connected &&
      this.assignedPartitions > 0 &&
      this.currentPhase === Phase.Online
    );
  }

  private updateReady(): void {
    this.readyGauge.set(this.isReady() ? 1 : 0);
  }

  private setPhaseGauge(current: Phase): void {
    for (const phase of phases) this.phaseGauge.set({ phase }, phase === current ? 1 : 0);
  }
}

export interface CreatePrometheusObserverOptions extends PrometheusObserverOptions {
  /** Defaults to a new Registry. */
  readonly registry?: Registry;
  /** Register prom-client's default Node.js metrics (process, heap, event loop, GC); default true. */
  readonly defaultMetrics?: boolean;
  /** Labels added to every series (e.g. a worker id); Kubernetes labels come from the scrape. */
  readonly defaultLabels?: Record<string, string>;
}

/** A Registry with the default Node.js metrics plus a PrometheusObserver recording into it. */
export function createPrometheusObserver(options: CreatePrometheusObserverOptions = {}): {
  registry: Registry;
  observer: PrometheusObserver;
} {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const observer = new PrometheusObserver(registry, options);
  return { registry, observer };
}
