/**
 * Labelling on a worker thread: the main thread keeps Kafka I/O, the thread decodes, extracts
 * features, standardises, assigns and encodes. Requests are answered in order, so a chunk is
 * labelled entirely by the version served before it was asked for, and the next chunk can be
 * labelled while the previous one is being published.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DecStreamError } from '../../errors.js';
import type { BackendPreference } from '../../model/backend.js';
import type { ModelSnapshot } from '../../model/types.js';
import { spawnModuleThread } from '../../runtime/module-thread.js';
import type { LabelledChunk, Labeller, SourceRecord } from '../ports.js';
import type { LabelFailure } from '../serving-model.js';
import { labelledChunk, VersionHeaders } from '../serving-model.js';
import type { CodecDescription } from './codec-description.js';
import type { FromThread, LabelledData, ToThread } from './protocol.js';
import { packedTransfer, packValues, rebuildError, unpackValues } from './protocol.js';

export interface ThreadLabellerOptions {
  readonly codec: CodecDescription;
  readonly backend?: BackendPreference;
}

/** Whether a thread pays off here: a second CPU to run it on. */
export function threadWorthwhile(cpus: number = os.availableParallelism()): boolean {
  return cpus >= 2;
}

interface Pending {
  readonly resolve: (message: FromThread) => void;
  readonly reject: (error: Error) => void;
}

/** Thrown for every request once the thread is gone: the worker cannot label any more. */
export class LabelThreadError extends DecStreamError {
  constructor(message: string, cause?: unknown) {
    super('LABEL_THREAD_FAILED', message, cause === undefined ? undefined : { cause });
  }
}

export class ThreadLabeller implements Labeller {
  readonly kind = 'thread';
  readonly concurrent = true;
  private readonly thread: Worker;
  private readonly ready: Promise<string>;
  private readonly pending = new Map<number, Pending>();
  private readonly headers = new VersionHeaders();
  private nextId = 1;
  private served: number | undefined;
  /** Set once the thread is gone or failed: every later request rejects with it. */
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(options: ThreadLabellerOptions) {
    this.thread = spawnModuleThread(import.meta.url, 'label-thread');
    this.ready = new Promise<string>((resolve, reject) => {
      this.pending.set(0, {
        resolve: (message) => {
          if (message.type === 'ready') resolve(message.backend);
          else if (message.type === 'init-failed') {
            reject(
              new LabelThreadError(
                `the labelling thread could not start: ${message.error.message}`,
              ),
            );
          }
        },
        reject,
      });
    });
    // Awaited by start(); this keeps an early failure from counting as unhandled meanwhile.
    this.ready.catch(() => undefined);
    this.thread.on('message', (message: FromThread) => this.receive(message));
    this.thread.on('error', (error) =>
      this.breakDown(new LabelThreadError(`the labelling thread crashed: ${error.message}`, error)),
    );
    this.thread.on('exit', (code) =>
      this.breakDown(
        new LabelThreadError(
          this.closing === undefined
            ? `the labelling thread exited unexpectedly (exit code ${code})`
            : 'the labeller is closed',
        ),
      ),
    );
    const init: ToThread = {
      type: 'init',
      codec: options.codec,
      backend: options.backend ?? 'auto',
    };
    this.thread.postMessage(init);
  }

  /** Starts the thread and waits until its codec and tensor backend are ready. */
  static async start(
    options: ThreadLabellerOptions,
  ): Promise<{ labeller: ThreadLabeller; backend: string }> {
    const labeller = new ThreadLabeller(options);
    try {
      const backend = await labeller.ready;
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
    // Set before the message goes: chunks asked for from now on use this version.
    const id = this.nextId++;
    const answer = this.request(id, { type: 'serve', id, snapshot });
    this.served = snapshot.version;
    await answer;
  }

  async label(records: readonly SourceRecord[]): Promise<LabelledChunk> {
    const id = this.nextId++;
    const values = packValues(records.map((r) => r.value));
    const message = await this.request(id, { type: 'label', id, values }, packedTransfer(values));
    if (message.type !== 'labelled')
      throw new LabelThreadError('unexpected answer from the labelling thread');
    return labelledChunk(records, valueLabels(message.result), this.headers);
  }

  close(): Promise<void> {
    this.closing ??= this.thread.terminate().then(() => {
      this.breakDown(new LabelThreadError('the labeller is closed'));
    });
    return this.closing;
  }

  private request(
    id: number,
    message: ToThread,
    transfer: ArrayBuffer[] = [],
  ): Promise<FromThread> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    if (this.closing !== undefined)
      return Promise.reject(new LabelThreadError('the labeller is closed'));
    return new Promise<FromThread>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage(message, transfer);
    });
  }

  private receive(message: FromThread): void {
    const id = message.type === 'ready' || message.type === 'init-failed' ? 0 : message.id;
    const waiter = this.pending.get(id);
    if (waiter === undefined) return;
    this.pending.delete(id);
    if (message.type === 'failed') waiter.reject(rebuildError(message.error));
    else waiter.resolve(message);
  }

  private breakDown(error: Error): void {
    this.broken ??= error;
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(this.broken);
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
