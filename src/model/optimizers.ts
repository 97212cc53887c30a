/**
 * Adam and SGD with momentum over a flat list of tensors. The optimiser owns its slot tensors; step()
 * returns new parameter tensors and disposes the old ones, so parameters are never updated in place.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from './types.js';

export interface Optimizer {
  /** New parameters from `params` and their gradients; disposes `params` (not `grads`). */
  step(params: readonly tf.Tensor[], grads: readonly tf.Tensor[]): tf.Tensor[];
  learningRate: number;
  dispose(): void;
}

export function createOptimizer(name: OptimizerName, learningRate: number): Optimizer {
  return name === 'adam' ? new Adam(learningRate) : new SgdMomentum(learningRate, 0.9);
}

/** Adam (Kingma & Ba) with the bias correction folded into the step size. */
export class Adam implements Optimizer {
  private m: tf.Tensor[] = [];
  private v: tf.Tensor[] = [];
  private t = 0;

  constructor(
    public learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-7,
  ) {}

  step(params: readonly tf.Tensor[], grads: readonly tf.Tensor[]): tf.Tensor[] {
    this.t += 1;
    if (this.m.length === 0) {
      this.m = params.map((p) => tf.zerosLike(p));
      this.v = params.map((p) => tf.zerosLike(p));
    }
    const { beta1, beta2, epsilon } = this;
    const stepSize = (this.learningRate * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const out: tf.Tensor[] = [];
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const g = grads[i]!;
      const [m, v, next] = tf.tidy(() => {
        const m1 = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        const p1 = tf.sub(p, tf.mul(tf.div(m1, tf.add(tf.sqrt(v1), epsilon)), stepSize));
        return [m1, v1, p1];
      });
      this.m[i]!.dispose();
      this.v[i]!.dispose();
      this.m[i] = m;
      this.v[i] = v;
      p.dispose();
      out.push(next);
    }
    return out;
  }

  dispose(): void {
    for (const t of this.m) t.dispose();
    for (const t of this.v) t.dispose();
    this.m = [];
    this.v = [];
  }
}

/** SGD with classical momentum: v ← μ v − η g, θ ← θ + v. */
export class SgdMomentum implements Optimizer {
  private velocity: tf.Tensor[] = [];

  constructor(
    public learningRate: number,
    private readonly momentum: number,
  ) {}

  step(params: readonly tf.Tensor[], grads: readonly tf.Tensor[]): tf.Tensor[] {
    if (this.velocity.length === 0) this.velocity = params.map((p) => tf.zerosLike(p));
    const out: tf.Tensor[] = [];
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const g = grads[i]!;
      const [v, next] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
        const v1 = tf.sub(tf.mul(this.velocity[i]!, this.momentum), tf.mul(g, this.learningRate));
        return [v1, tf.add(p, v1)];
      });
      this.velocity[i]!.dispose();
      this.velocity[i] = v;
      p.dispose();
      out.push(next);
    }
    return out;
  }

  dispose(): void {
    for (const t of this.velocity) t.dispose();
    this.velocity = [];
  }
}
