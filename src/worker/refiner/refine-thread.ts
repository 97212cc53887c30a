/**
 * The refinement thread: owns its own tfjs backend and a RefinementEngine, and answers refine /
 * rebootstrap / retrain requests from the main thread one at a time, so training never runs on
 * the thread that labels records. It also keeps the bounded sample of the stream a background
 * retrain trains on, and the records that arrive after a shadow model was trained, which the
 * shadow and the serving version are judged on before either has trained on them.
 */
import os from 'node:os';
import { initBackend } from '../../model/backend.js';
import type { Matrix } from '../../model/types.js';
import { FeatureWindow } from '../../online/feature-window.js';
import type { RefinementOutcome } from '../../online/refinement-engine.js';
import { RefinementEngine } from '../../online/refinement-engine.js';
import { StreamSample } from '../../online/stream-sample.js';
import { serveThread } from '../../runtime/thread-channel.js';
import type { RefineProtocol, RetrainThreadSettings } from './protocol.js';

let engine: RefinementEngine | undefined;
let window = new FeatureWindow(1);
let retrain: RetrainThreadSettings | undefined;
let sample: StreamSample | undefined;
/** Records that arrived since the waiting shadow was trained: neither model trained on them. */
let fresh = new FeatureWindow(1);
/** The waiting shadow's retrain was started by sustained drift (no cap on the ids it moves). */
let shadowOnDrift = false;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The engine, once the window, the sample and (while a shadow waits) the fresh rows have taken `batches`. */
function engineWith(batches: readonly Matrix[]): RefinementEngine {
  if (engine === undefined) throw new Error('refine-thread received work before init');
  for (const batch of batches) {
    window.push(batch);
    sample?.add(batch);
    if (engine.hasShadow()) fresh.push(batch);
  }
  return engine;
}

/** The window without its newest `rows` rows. */
function withoutNewest(x: Matrix, rows: number): Matrix {
  if (rows === 0) return x;
  const kept = Math.max(0, x.rows - rows);
  return { data: x.data.subarray(0, kept * x.cols), rows: kept, cols: x.cols };
}

/**
 * A waiting shadow is judged once enough fresh records arrived. Until then refinement goes on, but
 * on the window without the fresh rows, so the serving version does not train on them either.
 */
async function refineOrJudge(
  current: RefinementEngine,
  clusterSizes: Float32Array,
  refine: boolean,
): Promise<RefinementOutcome | undefined> {
  if (retrain !== undefined && current.hasShadow() && fresh.rows >= retrain.holdoutRecords) {
    const holdout = fresh.snapshot();
    fresh.clear();
    return current.judgeShadow(holdout, retrain.promotionMargin, {
      charge: retrain.relabelCharge,
      maxReassignedShare: shadowOnDrift ? 1 : retrain.maxReassignedShare,
    });
  }
  if (!refine) return undefined;
  const trainable = withoutNewest(window.snapshot(), current.hasShadow() ? fresh.rows : 0);
  if (trainable.rows < 2 * current.current().parameters.clusters) return undefined;
  return current.refine(trainable, clusterSizes);
}

serveThread<RefineProtocol>({
  async init(init, context) {
    if (init.nice !== 0) {
      try {
        // Relative to the process: a worker started under `nice` keeps the thread below its
        // labelling thread instead of at the same level.
        os.setPriority(0, Math.min(19, os.getPriority(0) + init.nice));
      } catch (error) {
        context.emit(`refiner: could not lower thread priority (${describe(error)})`);
      }
    }
    const backend = await initBackend(init.backend, (line) => context.emit(`refiner ${line}`));
    engine?.dispose();
    engine = new RefinementEngine(init.snapshot, init.settings);
    window = new FeatureWindow(init.windowRecords);
    retrain = init.retrain;
    sample =
      retrain === undefined
        ? undefined
        : new StreamSample({
            capacity: retrain.sampleRecords,
            halfLifeRecords: retrain.sampleHalfLifeRecords,
            seed: retrain.seed,
          });
    fresh = new FeatureWindow(Math.max(1, retrain?.holdoutRecords ?? 1));
    return backend;
  },
  requests: {
    replace(snapshot) {
      // A version from elsewhere (a restart): a waiting shadow was judged against another model.
      engine?.replace(snapshot);
      window.clear();
      fresh.clear();
      return undefined;
    },
    refine({ batches, clusterSizes, refine }) {
      return refineOrJudge(engineWith(batches), clusterSizes, refine);
    },
    rebootstrap({ batches, options }) {
      return engineWith(batches).rebootstrap(window.snapshot(), options);
    },
    async retrain({ batches, options, onDrift }) {
      const current = engineWith(batches);
      if (sample === undefined) throw new Error('the background retrain is off');
      fresh.clear();
      shadowOnDrift = onDrift;
      return current.trainShadow(sample.snapshot(), options, retrain?.start);
    },
    close(_body, context) {
      engine?.dispose();
      engine = undefined;
      context.finish();
      return undefined;
    },
  },
});
