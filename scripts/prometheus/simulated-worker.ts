// Drives a WorkerObserver the way a running worker would (bootstrap, then online batches with
// dead letters, lag, refinements, drift and snapshots), so the dashboard and the alert rules can be
// checked against a real Prometheus without Kafka. Deterministic: no randomness, a tick counter.

import { Phase } from '../../src/worker/observer.js';
import type { WorkerObserver } from '../../src/worker/observer.js';

export interface SimulatedWorker {
  /** Ticks run so far. */
  readonly ticks: number;
  stop(): void;
}

const clusters = 3;

/** Bootstraps at once, then emits one online batch every `intervalMs`. */
export function simulateWorker(observer: WorkerObserver, intervalMs = 200): SimulatedWorker {
  observer.phase(Phase.Bootstrapping);
  observer.consumerConnected(true);
  observer.bootstrap({ recordsCollected: 600 });
  for (const [stage, steps] of [
    ['pretrain', 3],
    ['kmeans', 2],
    ['cluster', 2],
  ] as const) {
    for (let step = 1; step <= steps; step++) {
      observer.bootstrap({ trainingPhase: stage, epoch: step, loss: 1 / (step + 1) });
    }
  }
  observer.modelServing({ version: 1, backend: 'cpu', inputDims: 4, clusters });
  observer.snapshotWritten(true);
  observer.phase(Phase.Online);

  let ticks = 0;
  let version = 1;
  const tick = (): void => {
    ticks++;
    const batch = 40 + (ticks % 7);
    const poison = ticks % 3 === 0 ? 1 : 0;
    observer.recordsConsumed(batch);
    observer.recordsProcessed('labelled', batch - poison);
    if (poison > 0) {
      observer.recordsProcessed('dead-lettered', poison);
      observer.deadLettered(ticks % 2 === 0 ? 'non-finite' : 'undecodable', poison);
    }
    observer.batch(batch - poison, 0.002 + (ticks % 5) * 0.001);
    const perCluster = [0, 0, 0];
    const confidences = new Float32Array(batch - poison);
    const latencies: number[] = [];
    for (let i = 0; i < confidences.length; i++) {
      const cluster = (i + ticks) % clusters;
      perCluster[cluster]! += 1;
      confidences[i] = 0.5 + ((i * 7) % 50) / 100;
      latencies.push(0.02 + ((i * 13) % 40) / 1000);
    }
    observer.labelledPerCluster(perCluster);
    observer.confidence(confidences);
    observer.endToEndLatency(latencies);
    const drift = (ticks % 50) / 500;
    observer.clusterShares([0.5 - drift, 0.3, 0.2 + drift]);
    observer.consumerLag('points', 0, 100 - (ticks % 100));
    observer.consumerLag('points', 1, ticks % 10);
    observer.drift({
      psi: drift,
      reconstructionErrorRatio: 1 + drift,
      labelChangeRate: drift / 2,
      meanConfidence: 0.8 - drift,
    });
    if (ticks % 5 === 0) {
      const accepted = ticks % 15 !== 0;
      observer.refinement({
        accepted,
        ...(accepted ? {} : { rejectReason: 'shift-bound' }),
        durationSeconds: 0.05 + (ticks % 4) * 0.01,
        loss: 0.02 + drift / 10,
        centroidShift: 0.01 + drift / 10,
        labelChangeFraction: drift / 4,
      });
      if (accepted) {
        version++;
        observer.modelServing({ version, backend: 'cpu', inputDims: 4, clusters });
        observer.snapshotWritten(true);
      }
    }
    if (ticks % 20 === 0) observer.clusterReseeded(ticks % clusters);
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    get ticks() {
      return ticks;
    },
    stop: () => clearInterval(timer),
  };
}
