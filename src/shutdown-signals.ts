/**
 * SIGTERM and SIGINT for `dec-stream run`, listened to from the first moment of the command (before
 * Kafka, tfjs or the worker are even loaded), so that no signal ever ends the process by signal.
 * Kept free of heavy imports for that reason.
 */

/** The signals that ask the worker to stop. */
export const ShutdownSignalNames: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Called for each signal received: `count` is 1 for the first one, 2 for the second, and so on. */
export type ShutdownListener = (signal: NodeJS.Signals, count: number) => void;

/** The part of `process` this needs; tests hand in an EventEmitter. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Every SIGTERM/SIGINT, kept with `process.on` (a handler stays installed, so a second signal is
 * not the default action either). The first one aborts `signal`; listeners hear every one,
 * including those received before they were added.
 */
export class ShutdownSignals {
  private readonly controller = new AbortController();
  private readonly received: NodeJS.Signals[] = [];
  private readonly listeners: ShutdownListener[] = [];

  private constructor(source: SignalSource) {
    for (const name of ShutdownSignalNames) source.on(name, (signal) => this.receive(signal));
  }

  /** Starts listening now; call it before anything slow. */
  static listen(source: SignalSource = process): ShutdownSignals {
    return new ShutdownSignals(source);
  }

  /** Aborted on the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** How many signals arrived so far. */
  get count(): number {
    return this.received.length;
  }

  /** Hears every signal; those already received are replayed to it at once, in order. */
  onSignal(listener: ShutdownListener): void {
    this.listeners.push(listener);
    this.received.forEach((signal, i) => tell(listener, signal, i + 1));
  }

  private receive(signal: NodeJS.Signals): void {
    this.received.push(signal);
    const count = this.received.length;
    if (count === 1) this.controller.abort(signal);
    for (const listener of this.listeners) tell(listener, signal, count);
  }
}

function tell(listener: ShutdownListener, signal: NodeJS.Signals, count: number): void {
  try {
    listener(signal, count);
  } catch {
    // A listener that throws must not turn a signal into a crash.
  }
}
