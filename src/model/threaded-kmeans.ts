/**
 * The guard's baseline k-means on a thread of its own, so that it runs beside pretraining instead
 * of before it. On wide inputs it is a sizeable share of a bootstrap (16 s of the demo's 180 s on
 * 7,000 × 784 pixels), while pretraining keeps one core busy and the labelling thread waits for
 * the first model; a second core does it for free.
 */
import os from 'node:os';
import type { BackendPreference } from './backend.js';
import { currentBackend } from './backend.js';
import type { KmeansInitResult, KmeansRunner } from './kmeans-init.js';
import type { RandomState } from './rng.js';
import type { Matrix } from './types.js';
import { spawnModuleThread } from '../runtime/module-thread.js';
import type { Call } from '../runtime/thread-channel.js';
import { ThreadChannel } from '../runtime/thread-channel.js';
import { tensorKmeans } from './tensor-kmeans.js';

/** Messages between the calling thread and the k-means thread. */
export interface KmeansProtocol {
  readonly init: { readonly backend: BackendPreference };
  /** The backend the thread runs on. */
  readonly ready: string;
  readonly requests: {
    readonly kmeans: Call<
      {
        readonly x: Matrix;
        readonly clusters: number;
        readonly restarts: number;
        readonly random: RandomState;
      },
      { readonly result: KmeansInitResult; readonly random: RandomState }
    >;
  };
  readonly event: never;
}

/**
 * Below this many input values (rows × columns) a thread's start-up (a second tfjs backend, about
 * a second) costs more than the k-means it would take over, which then runs on the calling thread.
 */
const THREAD_MIN_VALUES = 1_000_000;

/**
 * A runner that takes the baseline to a new thread on the calling thread's backend for inputs of at
 * least `minValues` values, and runs it here below that or where the process has one core. A thread
 * that fails runs it here instead: the stream is only advanced by a result that came back, so the
 * result is the same. `entry` names the thread's module (tests name one that cannot start).
 */
export function threadedKmeans(
  minValues = THREAD_MIN_VALUES,
  entry = 'kmeans-thread',
): KmeansRunner {
  const spareCore = os.availableParallelism() > 1;
  return async (x, clusters, restarts, rng, signal) => {
    if (!spareCore || x.rows * x.cols < minValues) {
      return tensorKmeans(x, clusters, restarts, rng, signal);
    }
    try {
      return await kmeansOnThread(entry, x, { clusters, restarts, rng }, signal);
    } catch {
      signal?.throwIfAborted();
      return tensorKmeans(x, clusters, restarts, rng, signal);
    }
  };
}

async function kmeansOnThread(
  entry: string,
  x: Matrix,
  task: { clusters: number; restarts: number; rng: Parameters<KmeansRunner>[3] },
  signal: AbortSignal | undefined,
): Promise<KmeansInitResult> {
  const { clusters, restarts, rng } = task;
  signal?.throwIfAborted();
  const channel = new ThreadChannel<KmeansProtocol>(
    spawnModuleThread(import.meta.url, entry),
    { backend: backendOfThisThread() },
    {
      lostError: (loss) =>
        loss.cause === 'crashed'
          ? loss.error
          : new Error(
              loss.cause === 'exited'
                ? `the k-means thread exited with code ${loss.code}`
                : 'the k-means thread was stopped',
            ),
      initError: (error) => new Error(`the k-means thread failed to start: ${error.message}`),
    },
  );
  const stop = (): void => void channel.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    await channel.ready;
    // A copy of exactly the rows: a view's whole buffer would otherwise travel with it.
    const data = x.data.slice();
    const answer = await channel.request(
      'kmeans',
      { x: { data, rows: x.rows, cols: x.cols }, clusters, restarts, random: rng.state() },
      [data.buffer],
    );
    signal?.throwIfAborted();
    rng.restore(answer.random);
    return answer.result;
  } catch (error) {
    // Stopped on purpose: the caller's reason, not the thread's loss.
    signal?.throwIfAborted();
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
    await channel.close();
  }
}

/** The backend this thread chose, for the new thread to choose the same (the same arithmetic). */
function backendOfThisThread(): BackendPreference {
  const name = currentBackend();
  return name === 'tensorflow' || name === 'wasm' || name === 'cpu' ? name : 'auto';
}
