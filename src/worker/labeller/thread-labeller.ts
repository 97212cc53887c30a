/**
 * Labelling on a worker thread: the main thread keeps Kafka I/O, the thread decodes, extracts
 * features, standardises, assigns and encodes. Requests are answered in order, so a chunk is
 * labelled entirely by the version served before it was asked for, and the next chunk can be
 * labelled while the previous one is being published.
 */
import os from 'node:os';
import { DecStreamError } from '../../errors.js';
import type { BackendPreference } from '../../model/backend.js';
import type { ModelSnapshot } from '../../model/types.js';
import { rebuildError } from '../../runtime/error-data.js';
import type { ThreadEntry } from '../../runtime/module-thread.js';
import { spawnModuleThread } from '../../runtime/module-thread.js';
import { packedTransfer, packValues, unpackValues } from '../../runtime/packed-values.js';
import type { ThreadLoss } from '../../runtime/thread-channel.js';
import { ThreadChannel } from '../../runtime/thread-channel.js';
import type { LabelledChunk, Labeller, SourceRecord } from '../ports.js';
import type { LabelFailure } from '../serving-model.js';
import { labelledChunk, VersionHeaders } from '../serving-model.js';
import type { CodecDescription } from './codec-description.js';
import type { LabelledData, LabelProtocol } from './protocol.js';

export interface ThreadLabellerOptions {
  readonly codec: CodecDescription;
  readonly backend?: BackendPreference;
  /**
   * The thread's entry module: `src/label-thread.ts`, which serves `label-thread.ts` with the real
   * schema registry client.
   */
  readonly entry: ThreadEntry;
}

/** Whether a thread pays off here: a second CPU to run it on. */
export function threadWorthwhile(cpus: number = os.availableParallelism()): boolean {
  return cpus >= 2;
}

/** Thrown for every request once the thread is gone: the worker cannot label any more. */
export class LabelThreadError extends DecStreamError {
  constructor(message: string, cause?: unknown) {
    super('LABEL_THREAD_FAILED', message, cause === undefined ? undefined : { cause });
  }
}

function lostError(loss: ThreadLoss): LabelThreadError {
  if (loss.cause === 'crashed') {
    return new LabelThreadError(`the labelling thread crashed: ${loss.error.message}`, loss.error);
  }
  if (loss.cause === 'exited' && !loss.closing) {
    return new LabelThreadError(
      `the labelling thread exited unexpectedly (exit code ${loss.code})`,
    );
  }
  return new LabelThreadError('the labeller is closed');
}

export class ThreadLabeller implements Labeller {
  readonly kind = 'thread';
  readonly concurrent = true;
  private readonly channel: ThreadChannel<LabelProtocol>;
  private readonly headers = new VersionHeaders();
  private served: number | undefined;

  private constructor(options: ThreadLabellerOptions) {
    this.channel = new ThreadChannel<LabelProtocol>(
      spawnModuleThread(options.entry.moduleUrl, options.entry.name),
      { codec: options.codec, backend: options.backend ?? 'auto' },
      {
        lostError,
        initError: (error) =>
          new LabelThreadError(`the labelling thread could not start: ${error.message}`),
      },
    );
  }

  /** Starts the thread and waits until its codec and tensor backend are ready. */
  static async start(
    options: ThreadLabellerOptions,
  ): Promise<{ labeller: ThreadLabeller; backend: string }> {
    const labeller = new ThreadLabeller(options);
    try {
      const backend = await labeller.channel.ready;
      return { labeller, backend };
    } catch (error) {
      await labeller.close();
      throw error;
    }
  }

  get version(): number | undefined {
    return this.served;
  }

  async serve(snapshot: ModelSnapshot): Promise<void> {
    // Set once the request is sent: chunks asked for from now on use this version.
    const answer = this.channel.request('serve', snapshot);
    this.served = snapshot.version;
    await answer;
  }

  async label(records: readonly SourceRecord[]): Promise<LabelledChunk> {
    const values = packValues(records.map((r) => r.value));
    const data = await this.channel.request('label', values, packedTransfer(values));
    return labelledChunk(records, valueLabels(data), this.headers);
  }

  /** Terminates the thread; idempotent. Requests still waiting reject. */
  close(): Promise<void> {
    return this.channel.close();
  }
}

/** The thread's answer as the value labels `labelledChunk` joins with the records. */
function valueLabels(data: LabelledData): Parameters<typeof labelledChunk>[1] {
  const failures: LabelFailure[] = data.failures.map((f) => ({
    index: f.index,
    error: rebuildError(f.error),
  }));
  const a = data.assignment;
  return {
    modelVersion: data.modelVersion,
    indices: data.indices,
    values: unpackValues(data.values) as Buffer[],
    failures,
    x: { data: data.x, rows: data.rows, cols: data.cols },
    assignment:
      a === undefined
        ? undefined
        : {
            rows: data.rows,
            clusters: a.clusters,
            cluster: a.cluster,
            confidence: a.confidence,
            q: a.q,
            distance: a.distance,
          },
  };
}
