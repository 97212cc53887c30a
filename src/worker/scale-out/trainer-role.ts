import type { Logger } from '../../runtime/logger.js';
import type { WorkerObserver } from '../observer.js';
import { Phase } from '../observer.js';
import type { TrainerElection } from '../ports.js';

/** One term of office: the trainer built when this member was elected, closed when it is not. */
export interface TrainerTerm {
  /** Settles with the trainer's final phase once it has closed. */
  readonly done: Promise<Phase>;
  readonly error: unknown;
  close(): Promise<void>;
}

export interface TrainerRoleOptions {
  readonly election: TrainerElection;
  /**
   * Builds and starts the trainer for one term: it takes the models topic's publishing rights
   * first (fencing the previous trainer), then bootstraps or resumes from the newest version.
   */
  readonly startTerm: () => Promise<TrainerTerm>;
  readonly observer: WorkerObserver;
  readonly log: Logger;
  /** The trainer failed (training, or a broker error it cannot recover from). */
  readonly onFailure: (error: unknown) => void;
}

/**
 * Runs the trainer while the election says this member holds the role. Terms begin and end one
 * after the other, in the order the election changed its mind, so two terms never overlap in one
 * process.
 */
export class TrainerRole {
  private readonly options: TrainerRoleOptions;
  private term: TrainerTerm | undefined;
  private transitions: Promise<void> = Promise.resolve();
  private active = false;
  private closed = false;

  constructor(options: TrainerRoleOptions) {
    this.options = options;
  }

  /** Whether this member trains now. */
  isTrainer(): boolean {
    return this.term !== undefined;
  }

  async start(): Promise<void> {
    await this.options.election.start((trainer) => this.change(trainer));
  }

  private change(trainer: boolean): void {
    this.active = trainer;
    this.transitions = this.transitions
      .then(() => (this.active && !this.closed ? this.begin() : this.end()))
      .catch((error: unknown) => {
        this.options.log.error('the trainer did not start', { error });
        this.options.onFailure(error);
      });
  }

  private async begin(): Promise<void> {
    if (this.term !== undefined) return;
    this.options.log.info('trainer starting', {});
    const term = await this.options.startTerm();
    this.term = term;
    this.options.observer.trainerRole(true);
    void term.done.then((phase) => {
      if (phase === Phase.Failed && this.term === term && !this.closed) {
        this.options.onFailure(term.error);
      }
    });
  }

  private async end(): Promise<void> {
    const term = this.term;
    if (term === undefined) return;
    this.term = undefined;
    this.options.observer.trainerRole(false);
    this.options.log.info('trainer stopping', {});
    await term.close();
  }

  /** Leaves the election and closes the trainer, if this member trains. */
  async close(): Promise<void> {
    this.closed = true;
    this.active = false;
    const errors: unknown[] = [];
    // The trainer first: its drain publishes the version it serves, which it may only do while
    // no successor has been elected (and has fenced it).
    this.transitions = this.transitions.then(() => this.end());
    await this.transitions.catch((error: unknown) => errors.push(error));
    await this.options.election.close().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  }
}
