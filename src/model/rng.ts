/** A generator's whole state: enough to go on with the same stream in another thread. */
export interface RandomState {
  readonly words: readonly [number, number, number, number];
  readonly spareNormal: number | undefined;
}

/**
 * A small seeded generator (sfc32 state, seeded through splitmix32) so that every random choice in
 * training (initial weights, shuffles, dropout masks, k-means++ seeds) follows from one integer seed.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, pairs cached). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** The state now; `restore` on any generator continues this stream from here. */
  state(): RandomState {
    return { words: [this.a, this.b, this.c, this.d], spareNormal: this.spareNormal };
  }

  /** Continues the stream whose state is given, as if this generator had drawn what it drew. */
  restore(state: RandomState): void {
    [this.a, this.b, this.c, this.d] = state.words;
    this.spareNormal = state.spareNormal;
  }

  /** A fresh seed for a sub-task, drawn from this stream. */
  fork(): number {
    return this.nextUint32();
  }

  /** The permutation 0..n-1 in a random order (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}
