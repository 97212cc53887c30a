/**
 * The dense autoencoder as plain tf tensors, with forward and backward passes written by hand.
 *
 * Why by hand: on the wasm backend a plain matMul runs many times faster than the layers API's
 * training loop, and a matMul with transpose flags set runs far slower than an explicit transpose
 * followed by a plain matMul. Every product below is therefore a plain, untransposed matMul:
 *   forward   A_l = act(A_{l-1} W_l + b_l)          (fused bias + activation)
 *   backward  dZ_l = dA_l ⊙ 1[A_l > 0]  (ReLU)       dW_l = A_{l-1}^T dZ_l
 *             db_l = Σ_rows dZ_l                      dA_{l-1} = dZ_l W_l^T
 *
 * Ownership: functions here create tensors and return them; callers run them inside tf.tidy or
 * dispose what they receive. NetworkTensors owns its tensors until disposeNetwork.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, DenseLayer } from './types.js';
import type { SeededRandom } from './rng.js';

export interface LayerTensors {
  readonly w: tf.Tensor2D;
  readonly b: tf.Tensor1D;
  readonly activation: Activation;
}

export interface LayerGradients {
  readonly dw: tf.Tensor2D;
  readonly db: tf.Tensor1D;
}

/** The layer widths of an autoencoder: input, hidden..., embedding, ...hidden reversed, input. */
export function autoencoderShape(
  inputDims: number,
  hiddenSizes: readonly number[],
  embeddingSize: number,
): { encoder: number[]; decoder: number[] } {
  const encoder = [inputDims, ...hiddenSizes, embeddingSize];
  return { encoder, decoder: [...encoder].reverse() };
}

/**
 * Glorot-uniform weights, zero biases. Hidden layers use ReLU; the embedding and the reconstruction
 * are linear (DEC's architecture).
 */
export function initDenseLayers(widths: readonly number[], rng: SeededRandom): DenseLayer[] {
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const inputSize = widths[l]!;
    const outputSize = widths[l + 1]!;
    const limit = Math.sqrt(6 / (inputSize + outputSize));
    const weights = new Float32Array(inputSize * outputSize);
    for (let i = 0; i < weights.length; i++) weights[i] = (2 * rng.next() - 1) * limit;
    layers.push({
      inputSize,
      outputSize,
      weights,
      bias: new Float32Array(outputSize),
      activation: l + 2 === widths.length ? 'linear' : 'relu',
    });
  }
  return layers;
}

export function layersToTensors(layers: readonly DenseLayer[]): LayerTensors[] {
  return layers.map((layer) => ({
    w: tf.tensor2d(layer.weights, [layer.inputSize, layer.outputSize]),
    b: tf.tensor1d(layer.bias),
    activation: layer.activation,
  }));
}

/** Reads tensors back into plain layers (copies). */
export function tensorsToLayers(layers: readonly LayerTensors[]): DenseLayer[] {
  return layers.map((layer) => {
    const [inputSize, outputSize] = layer.w.shape;
    return {
      inputSize,
      outputSize,
      weights: Float32Array.from(layer.w.dataSync()),
      bias: Float32Array.from(layer.b.dataSync()),
      activation: layer.activation,
    };
  });
}

export function disposeLayers(layers: readonly LayerTensors[]): void {
  for (const layer of layers) {
    layer.w.dispose();
    layer.b.dispose();
  }
}

function applyLayer(x: tf.Tensor2D, layer: LayerTensors): tf.Tensor2D {
  return tf.fused.matMul({
    a: x,
    b: layer.w,
    bias: layer.b,
    activation: layer.activation === 'relu' ? 'relu' : 'linear',
  }) as tf.Tensor2D;
}

/** Output of the stack; intermediate activations are not kept. */
export function forward(x: tf.Tensor2D, layers: readonly LayerTensors[]): tf.Tensor2D {
  return tf.tidy(() => {
    let a = x;
    for (const layer of layers) a = applyLayer(a, layer);
    return a;
  });
}

/**
 * Forward pass keeping every activation for the backward pass: result[0] is x itself, result[l] the
 * output of layer l. The caller owns result[1..].
 */
export function forwardWithActivations(
  x: tf.Tensor2D,
  layers: readonly LayerTensors[],
): tf.Tensor2D[] {
  const activations: tf.Tensor2D[] = [x];
  let a = x;
  for (const layer of layers) {
    a = applyLayer(a, layer);
    activations.push(a);
  }
  return activations;
}

/**
 * Backward pass through `layers` given dL/d(output) and the activations from forwardWithActivations.
 * Returns gradients per layer (same order as layers) and, when `needInputGradient`, dL/d(input).
 * `transposedWeights[l]`, when supplied, is W_l^T (reused, not disposed).
 */
export function backward(
  layers: readonly LayerTensors[],
  activations: readonly tf.Tensor2D[],
  outputGradient: tf.Tensor2D,
  needInputGradient: boolean,
  transposedWeights?: readonly tf.Tensor2D[],
): { grads: LayerGradients[]; inputGradient: tf.Tensor2D | undefined } {
  const grads: LayerGradients[] = new Array<LayerGradients>(layers.length);
  let dA = outputGradient;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l]!;
    const out = activations[l + 1]!;
    const input = activations[l]!;
    // ReLU'(z) = 1[z > 0] = 1[relu(z) > 0]; step(0) = 0 matches tfjs's own relu gradient.
    const dZ: tf.Tensor2D = layer.activation === 'relu' ? tf.mul(dA, tf.step(out)) : dA;
    const dw: tf.Tensor2D = tf.matMul(tf.transpose(input), dZ);
    const db = tf.sum<tf.Tensor1D>(dZ, 0);
    grads[l] = { dw, db };
    if (l > 0 || needInputGradient) {
      const wT = transposedWeights?.[l] ?? tf.transpose(layer.w);
      dA = tf.matMul(dZ, wT);
    }
  }
  return { grads, inputGradient: needInputGradient ? dA : undefined };
}

/** Mean squared error over all elements and dL/d(prediction) = 2 (ŷ - y) / (rows · cols). */
export function mseWithGradient(
  prediction: tf.Tensor2D,
  target: tf.Tensor2D,
): { loss: tf.Scalar; gradient: tf.Tensor2D } {
  const diff = tf.sub(prediction, target);
  const count = prediction.shape[0] * prediction.shape[1];
  return {
    loss: tf.div(tf.sum(tf.square(diff)), count),
    gradient: tf.mul(diff, 2 / count),
  };
}
