/**
 * One typed request/response channel between the main thread and a worker thread, used by every
 * thread dec-stream starts (labelling, refinement, publishing).
 *
 * A thread is started with one `init` message and answers it with `ready` (or with the reason it
 * could not start). After that the main thread sends named requests, each with an id, and the
 * thread answers each one with a value or an error; errors travel as plain data and are rebuilt
 * with their code (`error-data.ts`). The thread handles messages strictly one at a time, in the
 * order they were sent, so a request sees the effect of every request sent before it. The thread
 * may also send events of its own (log lines) at any time.
 *
 * Once the thread is gone (it crashed, exited, or the channel was closed), every request still
 * waiting and every later one rejects with the error its owner builds for that loss: none hangs.
 */
import type { MessagePort, TransferListItem, Worker } from 'node:worker_threads';
import { parentPort } from 'node:worker_threads';
import type { ErrorData } from './error-data.js';
import { errorData, rebuildError } from './error-data.js';

/** One kind of request: what goes to the thread and what comes back. */
export interface Call<Request, Response> {
  readonly request: Request;
  readonly response: Response;
}

/** The messages of one thread. */
export interface ChannelProtocol {
  /** Sent once, first: what the thread needs to start. */
  readonly init: unknown;
  /** The thread's answer to `init` once it can take requests. */
  readonly ready: unknown;
  /** Every request by name. */
  readonly requests: Record<string, Call<unknown, unknown>>;
  /** What the thread sends unasked (log lines); `never` when it sends nothing. */
  readonly event: unknown;
}

export type RequestName<P extends ChannelProtocol> = keyof P['requests'] & string;
export type RequestOf<
  P extends ChannelProtocol,
  N extends RequestName<P>,
> = P['requests'][N]['request'];
export type ResponseOf<
  P extends ChannelProtocol,
  N extends RequestName<P>,
> = P['requests'][N]['response'];

/** Messages on the wire, main thread → worker thread. */
type Downward =
  | { readonly kind: 'init'; readonly init: unknown }
  | {
      readonly kind: 'request';
      readonly id: number;
      readonly name: string;
      readonly body: unknown;
    };

/** Messages on the wire, worker thread → main thread. */
type Upward =
  | { readonly kind: 'ready'; readonly ready: unknown }
  | { readonly kind: 'init-failed'; readonly error: ErrorData }
  | { readonly kind: 'answer'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'failed'; readonly id: number; readonly error: ErrorData }
  | { readonly kind: 'event'; readonly event: unknown };

/** How a thread was lost. */
export type ThreadLoss =
  | { readonly cause: 'crashed'; readonly error: Error }
  /** The thread ended; `closing` when the channel was being closed at the time. */
  | { readonly cause: 'exited'; readonly code: number; readonly closing: boolean }
  /** The channel was closed: the thread is gone or going, on purpose. */
  | { readonly cause: 'closed' };

export interface ChannelOptions<P extends ChannelProtocol> {
  /** The error waiting and later requests reject with once the thread is lost (and `ready`, if it had not answered yet). */
  readonly lostError: (loss: ThreadLoss) => Error;
  /** The error `ready` rejects with when the thread reports that it could not start. */
  readonly initError: (error: Error) => Error;
  /** Receives the thread's events. */
  readonly onEvent?: (event: P['event']) => void;
  /** Called once when the thread is lost, before the waiting requests reject. */
  readonly onLost?: (loss: ThreadLoss) => void;
}

/** Sends a request while the channel is closing (`ThreadChannel.close`'s last words). */
export type ClosingRequest<P extends ChannelProtocol> = <N extends RequestName<P>>(
  name: N,
  body: RequestOf<P, N>,
) => Promise<ResponseOf<P, N>>;

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** The main thread's end of a channel. */
export class ThreadChannel<P extends ChannelProtocol> {
  /** The thread (tests stop it to see what its owner does). */
  readonly thread: Worker;
  /** Resolves with the thread's `ready` answer; rejects when it could not start or was lost first. */
  readonly ready: Promise<P['ready']>;
  /** Resolves with the exit code once the thread has ended. */
  readonly exited: Promise<number>;
  private readonly options: ChannelOptions<P>;
  private readonly waiters = new Map<number, Waiter>();
  private readonly startUp: Waiter;
  private nextId = 1;
  private started = false;
  /** Set once the thread is lost: every later request rejects with it. */
  private lost: Error | undefined;
  private closing: Promise<void> | undefined;

  /** Starts the conversation with `thread`: sends `init` and waits for the thread's answer in `ready`. */
  constructor(thread: Worker, init: P['init'], options: ChannelOptions<P>) {
    this.thread = thread;
    this.options = options;
    let startUp: Waiter | undefined;
    this.ready = new Promise<P['ready']>((resolve, reject) => {
      startUp = { resolve, reject };
    });
    this.startUp = startUp as Waiter;
    // Awaited by the owner; this keeps an early failure from counting as unhandled meanwhile.
    this.ready.catch(() => undefined);
    this.exited = new Promise<number>((resolve) => thread.once('exit', resolve));
    thread.on('message', (message: Upward) => this.receive(message));
    thread.on('error', (error) => this.lose({ cause: 'crashed', error }));
    thread.on('exit', (code) =>
      this.lose({ cause: 'exited', code, closing: this.closing !== undefined }),
    );
    this.post({ kind: 'init', init }, []);
  }

  /** True once the thread is lost (crashed, exited or closed): requests reject. */
  get gone(): boolean {
    return this.lost !== undefined;
  }

  /** Sends request `name`; resolves with the thread's answer or rejects with its rebuilt error. */
  request<N extends RequestName<P>>(
    name: N,
    body: RequestOf<P, N>,
    transfer: readonly TransferListItem[] = [],
  ): Promise<ResponseOf<P, N>> {
    if (this.lost === undefined && this.closing !== undefined) {
      return Promise.reject(this.options.lostError({ cause: 'closed' }));
    }
    return this.send(name, body, transfer);
  }

  /**
   * Closes the channel; idempotent. From now on requests reject as closed, except those `drain`
   * sends (the thread's last words: disconnect, dispose). Once `drain` has finished (or failed,
   * whose error `close` passes on) the thread is terminated, and whatever still waits rejects.
   */
  close(drain?: (request: ClosingRequest<P>) => Promise<void>): Promise<void> {
    this.closing ??= this.shutDown(drain);
    return this.closing;
  }

  private async shutDown(drain?: (request: ClosingRequest<P>) => Promise<void>): Promise<void> {
    try {
      if (drain !== undefined) await drain((name, body) => this.send(name, body, []));
    } finally {
      await this.thread.terminate();
      this.lose({ cause: 'closed' });
    }
  }

  private send<N extends RequestName<P>>(
    name: N,
    body: RequestOf<P, N>,
    transfer: readonly TransferListItem[],
  ): Promise<ResponseOf<P, N>> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise<ResponseOf<P, N>>((resolve, reject) => {
      this.waiters.set(id, { resolve: resolve, reject });
      this.post({ kind: 'request', id, name, body }, transfer);
    });
  }

  private post(message: Downward, transfer: readonly TransferListItem[]): void {
    this.thread.postMessage(message, transfer);
  }

  private receive(message: Upward): void {
    switch (message.kind) {
      case 'event':
        this.options.onEvent?.(message.event);
        return;
      case 'ready':
        this.started = true;
        this.startUp.resolve(message.ready);
        return;
      case 'init-failed':
        this.startUp.reject(this.options.initError(rebuildError(message.error)));
        return;
      case 'answer':
      case 'failed': {
        const waiter = this.waiters.get(message.id);
        if (waiter === undefined) return;
        this.waiters.delete(message.id);
        if (message.kind === 'answer') waiter.resolve(message.value);
        else waiter.reject(rebuildError(message.error));
        return;
      }
    }
  }

  private lose(loss: ThreadLoss): void {
    if (this.lost !== undefined) return;
    this.lost = this.options.lostError(loss);
    this.options.onLost?.(loss);
    if (!this.started) this.startUp.reject(this.lost);
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiter of waiters) waiter.reject(this.lost);
  }
}

/** An answer whose buffers are moved to the main thread, not copied. */
export class Transferring<T> {
  constructor(
    readonly value: T,
    readonly transfer: readonly TransferListItem[],
  ) {}
}

/** What a handler on the thread's side may do besides answering. */
export interface ThreadContext<P extends ChannelProtocol> {
  /** Sends an event to the main thread. */
  emit(event: P['event']): void;
  /** Closes the thread's end once the current message is answered, so the thread can exit. */
  finish(): void;
}

type Answer<T> = T | Transferring<T> | Promise<T | Transferring<T>>;

/** The thread's side: how it starts and how it answers each request. */
export interface ThreadHandlers<P extends ChannelProtocol> {
  /** Resolves with the `ready` answer; a throw reports that the thread could not start. */
  init(init: P['init'], context: ThreadContext<P>): P['ready'] | Promise<P['ready']>;
  readonly requests: {
    readonly [N in RequestName<P>]: (
      body: RequestOf<P, N>,
      context: ThreadContext<P>,
    ) => Answer<ResponseOf<P, N>>;
  };
}

/**
 * Serves the thread's end of a channel on `port` (the thread's parent port by default): one
 * message at a time, in order, each answered with a value or an error.
 */
export function serveThread<P extends ChannelProtocol>(
  handlers: ThreadHandlers<P>,
  port: MessagePort | null = parentPort,
): void {
  if (port === null) throw new Error('serveThread must run on a worker thread');
  let finished = false;
  const post = (message: Upward, transfer: readonly TransferListItem[] = []): void => {
    try {
      port.postMessage(message, transfer);
    } catch (error) {
      // An answer that cannot be cloned still answers, as a failure.
      if (message.kind === 'answer') {
        port.postMessage({ kind: 'failed', id: message.id, error: errorData(error) });
      } else if (message.kind === 'ready') {
        port.postMessage({ kind: 'init-failed', error: errorData(error) });
      } else {
        throw error;
      }
    }
  };
  const context: ThreadContext<P> = {
    emit: (event) => post({ kind: 'event', event }),
    finish: () => {
      finished = true;
    },
  };

  async function handle(message: Downward): Promise<void> {
    if (message.kind === 'init') {
      try {
        post({ kind: 'ready', ready: await handlers.init(message.init, context) });
      } catch (error) {
        post({ kind: 'init-failed', error: errorData(error) });
      }
      return;
    }
    const handler = handlers.requests[message.name as RequestName<P>] as
      ((body: unknown, context: ThreadContext<P>) => Answer<unknown>) | undefined;
    try {
      if (handler === undefined) throw new Error(`unknown request "${message.name}"`);
      const answer = await handler(message.body, context);
      if (answer instanceof Transferring) {
        post({ kind: 'answer', id: message.id, value: answer.value }, answer.transfer);
      } else {
        post({ kind: 'answer', id: message.id, value: answer });
      }
    } catch (error) {
      post({ kind: 'failed', id: message.id, error: errorData(error) });
    }
  }

  // One message at a time, in order: the next waits for the previous one to be answered.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: Downward) => {
    queue = queue.then(async () => {
      if (finished) return;
      await handle(message);
      if (finished) port.close();
    });
  });
}
