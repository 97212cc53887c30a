/**
 * Maps the resolved Config onto the Refiner's options: the DEC_REFINE_* settings, the re-bootstrap
 * policy (DEC_REBOOTSTRAP_*) and the tensor backend of the refinement thread.
 */
import type { Config } from '../../config/config.js';
import { defaultRefinementSettings } from '../../online/refinement-engine.js';
import { defaultRefinementBounds } from '../../online/refinement-policy.js';
import type { RefinerOptions } from './refiner.js';

export function refinerOptionsFromConfig(config: Config): RefinerOptions {
  const refine = config.refine;
  return {
    everyRecords: refine.everyRecords,
    intervalMs: refine.intervalMs,
    windowRecords: refine.window,
    halfLifeRecords: refine.halfLifeRecords,
    backend: config.model.backend,
    settings: {
      ...defaultRefinementSettings,
      learningRate: refine.learningRate,
      encoderLearningRate: refine.encoderLearningRate,
      updateEncoder: refine.updateEncoder,
      batchSize: config.model.batchSize,
      minClusterShare: refine.minClusterShare,
      seed: config.model.seed,
      bounds: {
        ...defaultRefinementBounds,
        ...(refine.maxLoss === undefined ? {} : { maxLoss: refine.maxLoss }),
        ...(refine.maxCentroidShift === undefined
          ? {}
          : { maxCentroidShift: refine.maxCentroidShift }),
      },
    },
    ...(refine.rebootstrapPsiThreshold > 0
      ? {
          rebootstrap: {
            psiThreshold: refine.rebootstrapPsiThreshold,
            sustainMs: refine.rebootstrapAfterMs,
          },
        }
      : {}),
  };
}
