/**
 * An OutputSink whose producers run on a thread of their own. The main thread keeps the consumer
 * (fetching, group membership, and the at-least-once commit, which only the group member may
 * make); each unit crosses to the publishing thread as packed buffers. Exactly-once runs whole
 * transactions there (produce, dead letters, offsets, commit), fencing included.
 */
import type { Worker } from 'node:worker_threads';
import type { Consumer } from 'kafkajs';
import type { Config, DeliveryMode } from '../../config/config.js';
import { DecStreamError } from '../../errors.js';
import { rebuildError } from '../../worker/labeller/protocol.js';
import type { Logger } from '../../runtime/logger.js';
import { spawnModuleThread } from '../../runtime/module-thread.js';
import type { OutputSink, PublishUnit } from '../../worker/ports.js';
import { commitUnit } from '../output-sink.js';
import type { FromPublisher, PublisherSettings, ToPublisher } from './protocol.js';
import { packUnit, unitTransfer } from './protocol.js';

export interface ThreadSinkOptions {
  readonly settings: PublisherSettings;
  /** The input consumer: at-least-once commits through it (exactly-once commits in the thread). */
  readonly consumer: Consumer | undefined;
  readonly logger: Logger;
}

/** What the publishing thread needs from the worker's configuration. */
export function publisherSettings(config: Config): PublisherSettings {
  const { stream } = config;
  return {
    kafka: config.kafka,
    delivery: stream.delivery,
    groupId: stream.groupId,
    outputTopic: stream.outputTopic,
    dlqTopic: stream.dlqTopic,
    transactionalIdPrefix: stream.transactionalIdPrefix,
    maxRequestBytes: undefined,
    compression: stream.outputCompression,
  };
}

export class PublishThreadError extends DecStreamError {
  constructor(message: string, cause?: unknown) {
    super('PUBLISH_THREAD_FAILED', message, cause === undefined ? undefined : { cause });
  }
}

interface Pending {
  readonly resolve: (offset: string | undefined) => void;
  readonly reject: (error: Error) => void;
}

export class ThreadSink implements OutputSink {
  readonly delivery: DeliveryMode;
  readonly queuesInOrder: boolean;
  private readonly options: ThreadSinkOptions;
  private thread: Worker | undefined;
  private starting: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;
  /** At-least-once: the commit of the last unit, left running while the next one is produced. */
  private committing: Promise<void> = Promise.resolve();
  /** Every commit still running (one, unless publishes overlap). */
  private readonly commits = new Set<Promise<void>>();

  constructor(options: ThreadSinkOptions) {
    if (options.settings.delivery === 'at-least-once' && options.consumer === undefined) {
      throw new TypeError('an at-least-once sink commits through the input consumer: pass it');
    }
    this.options = options;
    this.delivery = options.settings.delivery;
    this.queuesInOrder = this.delivery === 'at-least-once';
  }

  /** Starts the thread and connects its producers; idempotent. */
  start(): Promise<void> {
    this.starting ??= this.open();
    return this.starting;
  }

  claim(topic: string, partition: number): Promise<string | undefined> {
    if (this.delivery === 'at-least-once') return Promise.resolve(undefined);
    return this.request({ type: 'claim', id: this.nextId++, topic, partition });
  }

  async release(topic: string, partitions: readonly number[]): Promise<void> {
    if (this.delivery === 'at-least-once') return;
    await this.request({ type: 'release', id: this.nextId++, topic, partitions });
  }

  /**
   * Exactly-once: resolves once the unit's transaction committed. At-least-once: resolves once the
   * unit's records are acknowledged and the previous unit's offset is committed; this unit's own
   * commit runs on while the next unit is produced (offsets are still committed in order, each only
   * after its records), and `settle` waits for it.
   *
   * At-least-once units queue in order (`queuesInOrder`): the thread produces them one after the
   * other in the order of the calls, and after a failed one it produces none of the later ones, so
   * the next unit can be handed over before this one is acknowledged.
   */
  async publish(unit: PublishUnit): Promise<void> {
    const packed = packUnit(unit);
    const produced = this.request(
      { type: 'publish', id: this.nextId++, unit: packed },
      unitTransfer(packed),
    );
    if (this.delivery === 'exactly-once') {
      await produced;
      return;
    }
    // Chained at call time, so a unit handed over before the previous one is acknowledged still
    // commits after it.
    const previous = this.committing;
    const committing = Promise.all([produced, previous]).then(() =>
      commitUnit(this.options.consumer as Consumer, unit),
    );
    this.committing = committing;
    this.commits.add(committing);
    // Awaited by the next publish or by settle; this keeps a failure from counting as unhandled.
    committing.then(
      () => this.commits.delete(committing),
      () => undefined,
    );
    await Promise.all([produced, previous]);
  }

  async settle(): Promise<void> {
    await Promise.all([...this.commits]);
  }

  /** Disconnects the producers, then ends the thread; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async open(): Promise<void> {
    const thread = spawnModuleThread(import.meta.url, 'publish-thread');
    this.thread = thread;
    const ready = new Promise<void>((resolve, reject) => {
      this.pending.set(0, {
        resolve: () => resolve(),
        reject,
      });
    });
    thread.on('message', (message: FromPublisher) => this.receive(message));
    thread.on('error', (error) =>
      this.breakDown(
        new PublishThreadError(`the publishing thread crashed: ${error.message}`, error),
      ),
    );
    thread.on('exit', (code) =>
      this.breakDown(
        new PublishThreadError(
          this.closing === undefined
            ? `the publishing thread exited unexpectedly (exit code ${code})`
            : 'the publishing thread is closed',
        ),
      ),
    );
    const init: ToPublisher = { type: 'init', settings: this.options.settings };
    thread.postMessage(init);
    try {
      await ready;
    } catch (error) {
      await thread.terminate();
      throw error;
    }
  }

  private async shutDown(): Promise<void> {
    const thread = this.thread;
    if (thread === undefined) return;
    await this.settle().catch(() => undefined);
    try {
      if (this.broken === undefined && this.starting !== undefined) {
        await this.starting.then(
          () => this.request({ type: 'close', id: this.nextId++ }, [], true),
          () => undefined,
        );
      }
    } finally {
      await thread.terminate();
    }
  }

  private request(
    message: ToPublisher & { readonly id: number },
    transfer: ArrayBuffer[] = [],
    closing = false,
  ): Promise<string | undefined> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    if (this.thread === undefined) {
      return Promise.reject(new PublishThreadError('the publishing thread is not started'));
    }
    if (this.closing !== undefined && !closing) {
      return Promise.reject(new PublishThreadError('the publishing thread is closed'));
    }
    const thread = this.thread;
    return new Promise<string | undefined>((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      thread.postMessage(message, transfer);
    });
  }

  private receive(message: FromPublisher): void {
    if (message.type === 'log') {
      this.options.logger[message.level](message.message, message.fields);
      return;
    }
    const id = message.type === 'ready' || message.type === 'init-failed' ? 0 : message.id;
    const waiter = this.pending.get(id);
    if (waiter === undefined) return;
    this.pending.delete(id);
    if (message.type === 'init-failed') {
      waiter.reject(
        new PublishThreadError(
          `the publishing thread could not connect: ${message.error.message}`,
          rebuildError(message.error),
        ),
      );
    } else if (message.type === 'failed') {
      waiter.reject(rebuildError(message.error));
    } else {
      waiter.resolve(message.type === 'done' ? message.offset : undefined);
    }
  }

  private breakDown(error: Error): void {
    this.broken ??= error;
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(this.broken);
  }
}
