/**
 * Pretrained autoencoders kept by everything that decides them: the inputs' bits, the network's
 * sizes, the pretraining settings and the seed. Pretraining is deterministic, so a second
 * pretraining with the same key would give the same network bit for bit; `--clusters auto` and
 * `DEC_CLUSTERS=auto` pretrain once to choose k (cluster-count-spaces.ts) and train on that
 * autoencoder instead of pretraining it again.
 */
import type { PretrainOptions, PretrainResult } from './pretrain.js';
import type { DecOptions, Matrix } from './types.js';

/** The options that decide a pretrained autoencoder, besides the inputs: the network's sizes too. */
type PretrainSettings = PretrainOptions & Pick<DecOptions, 'hiddenSizes' | 'embeddingSize'>;

export class PretrainCache {
  private readonly entries = new Map<string, PretrainResult>();

  get(key: string): PretrainResult | undefined {
    return this.entries.get(key);
  }

  set(key: string, result: PretrainResult): void {
    this.entries.set(key, result);
  }
}

/** The key of the autoencoder pretrained on x with these settings from this seed. */
export function pretrainKey(x: Matrix, settings: PretrainSettings, seed: number): string {
  const decided = {
    rows: x.rows,
    cols: x.cols,
    data: fingerprint(x.data),
    seed,
    hiddenSizes: settings.hiddenSizes,
    embeddingSize: settings.embeddingSize,
    batchSize: settings.batchSize,
    pretrainEpochs: settings.pretrainEpochs,
    pretrainOptimizer: settings.pretrainOptimizer,
    pretrainLearningRate: settings.pretrainLearningRate,
    inputDropout: settings.inputDropout,
    earlyStopPatience: settings.earlyStopPatience,
    imageAugmentation: settings.imageAugmentation ?? null,
  };
  return JSON.stringify(decided);
}

/**
 * Two 32-bit FNV-1a-style hashes of the values' bits (the second over each word with its halves
 * swapped): inputs that differ anywhere almost surely differ here, and hashing 5 million values
 * takes a few tens of milliseconds, next to minutes of pretraining.
 */
function fingerprint(values: Float32Array): string {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < bits.length; i++) {
    const v = bits[i]!;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ ((v >>> 16) | (v << 16)), 0x01000193);
  }
  return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}
