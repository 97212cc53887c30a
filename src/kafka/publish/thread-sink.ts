/**
 * An OutputSink whose producers run on a thread of their own. The main thread keeps the consumer
 * (fetching, group membership, and the at-least-once commit, which only the group member may
 * make); each unit crosses to the publishing thread as packed buffers. Exactly-once runs whole
 * transactions there (produce, dead letters, offsets, commit), fencing included.
 */
import type { Consumer } from 'kafkajs';
import type { Config, DeliveryMode } from '../../config/config.js';
import { DecStreamError } from '../../errors.js';
import type { Logger } from '../../runtime/logger.js';
import { spawnModuleThread } from '../../runtime/module-thread.js';
import type { RequestOf, ResponseOf, ThreadLoss } from '../../runtime/thread-channel.js';
import { ThreadChannel } from '../../runtime/thread-channel.js';
import type { OutputSink, PublishUnit } from '../../worker/ports.js';
import { lostMembership } from '../group-membership.js';
import { commitUnit } from '../output-sink.js';
import type { PublisherSettings, PublishProtocol } from './protocol.js';
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

function lostError(loss: ThreadLoss): PublishThreadError {
  if (loss.cause === 'crashed') {
    return new PublishThreadError(
      `the publishing thread crashed: ${loss.error.message}`,
      loss.error,
    );
  }
  if (loss.cause === 'exited' && !loss.closing) {
    return new PublishThreadError(
      `the publishing thread exited unexpectedly (exit code ${loss.code})`,
    );
  }
  return new PublishThreadError('the publishing thread is closed');
}

export class ThreadSink implements OutputSink {
  readonly delivery: DeliveryMode;
  readonly queuesInOrder: boolean;
  private readonly options: ThreadSinkOptions;
  private channel: ThreadChannel<PublishProtocol> | undefined;
  private starting: Promise<void> | undefined;
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
    return this.request('claim', { topic, partition });
  }

  async release(topic: string, partitions: readonly number[]): Promise<void> {
    if (this.delivery === 'at-least-once') return;
    await this.request('release', { topic, partitions });
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
    const produced = this.request('publish', packed, unitTransfer(packed));
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
    await this.surfacing(Promise.all([produced, previous]));
  }

  async settle(): Promise<void> {
    await this.surfacing(Promise.all([...this.commits]));
  }

  /**
   * Any other failure stays: every later unit fails with it. A commit refused because the group
   * dropped this member ends only the batch that sees it; the consumer rejoins and fetches the
   * uncommitted units again, and their commits start a new chain.
   */
  private async surfacing(waiting: Promise<unknown>): Promise<void> {
    try {
      await waiting;
    } catch (error) {
      if (lostMembership(error) !== undefined) {
        this.commits.clear();
        this.committing = Promise.resolve();
      }
      throw error;
    }
  }

  /** Disconnects the producers, then ends the thread; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async open(): Promise<void> {
    const channel = new ThreadChannel<PublishProtocol>(
      spawnModuleThread(import.meta.url, 'publish-thread'),
      this.options.settings,
      {
        lostError,
        initError: (error) =>
          new PublishThreadError(
            `the publishing thread could not connect: ${error.message}`,
            error,
          ),
        onEvent: (line) => this.options.logger[line.level](line.message, line.fields),
      },
    );
    this.channel = channel;
    try {
      await channel.ready;
    } catch (error) {
      await channel.thread.terminate();
      throw error;
    }
  }

  /** Lets the commits finish, disconnects the producers in the thread, then ends it. */
  private async shutDown(): Promise<void> {
    const channel = this.channel;
    if (channel === undefined) return;
    await channel.close(async (request) => {
      await this.settle().catch(() => undefined);
      if (channel.gone) return;
      await this.starting?.then(
        () => request('close', undefined),
        () => undefined,
      );
    });
  }

  private request<N extends 'claim' | 'release' | 'publish'>(
    name: N,
    body: RequestOf<PublishProtocol, N>,
    transfer: ArrayBuffer[] = [],
  ): Promise<ResponseOf<PublishProtocol, N>> {
    if (this.channel === undefined) {
      return Promise.reject(new PublishThreadError('the publishing thread is not started'));
    }
    return this.channel.request(name, body, transfer);
  }
}
