import type { TrainingPhase, TrainingProgress } from '../model/types.js';

/** Where progress goes: standard error, usually. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressReporter {
  onProgress(progress: TrainingProgress): void;
  /** Ends the current line (terminal) or prints the last unprinted state (plain). */
  done(): void;
}

const PHASE_LABEL: Record<TrainingPhase, string> = {
  pretrain: 'pretrain',
  kmeans: 'k-means',
  cluster: 'cluster',
};

const STEP_NAME: Record<TrainingPhase, string> = {
  pretrain: 'epoch',
  kmeans: 'restart',
  cluster: 'iteration',
};

/** Formats milliseconds as m:ss or h:mm:ss. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Time left in the current phase, extrapolated from its pace so far (an upper bound for 'cluster'). */
function etaMs(p: TrainingProgress): number {
  if (p.step <= 0) return Number.NaN;
  return (p.elapsedMs / p.step) * Math.max(0, p.totalSteps - p.step);
}

function details(p: TrainingProgress): string {
  const parts: string[] = [];
  if (p.loss !== undefined) parts.push(`loss ${formatNumber(p.loss)}`);
  if (p.labelChangeFraction !== undefined) {
    parts.push(`changed ${(p.labelChangeFraction * 100).toFixed(2)}%`);
  }
  return parts.join('  ');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)
    ? value.toExponential(3)
    : value.toPrecision(4);
}

/** One step as a line of its own, for logs and pipes. */
function plainLine(p: TrainingProgress): string {
  const extra = details(p);
  const eta = p.step < p.totalSteps ? `  eta ${formatDuration(etaMs(p))}` : '';
  return (
    `${PHASE_LABEL[p.phase]} ${STEP_NAME[p.phase]} ${p.step}/${p.totalSteps}` +
    `${extra === '' ? '' : `  ${extra}`}  elapsed ${formatDuration(p.elapsedMs)}${eta}\n`
  );
}

/**
 * Draws training progress. On a terminal: one bar redrawn in place (phase, step, loss, ETA), at most
 * ten times a second. Elsewhere (logs, pipes): plain lines, the first and last step of each phase and
 * at most one line every `intervalMs` in between.
 */
export function createProgressReporter(
  stream: ProgressStream,
  options: { tty?: boolean; intervalMs?: number; now?: () => number } = {},
): ProgressReporter {
  const tty = options.tty ?? stream.isTTY === true;
  const intervalMs = options.intervalMs ?? (tty ? 100 : 2000);
  const now = options.now ?? (() => Date.now());
  let last: TrainingProgress | undefined;
  let lastPrinted: TrainingProgress | undefined;
  let lastPrintAt = -Infinity;
  let lineOpen = false;

  // A pseudo-terminal without a size reports 0 columns.
  const columns = (): number =>
    stream.columns !== undefined && stream.columns >= 20 ? stream.columns : 100;

  const bar = (p: TrainingProgress): string => {
    const width = Math.max(10, Math.min(30, columns() - 60));
    const fraction = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
    const filled = Math.round(fraction * width);
    const extra = details(p);
    const text =
      `${PHASE_LABEL[p.phase].padEnd(8)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
      `${STEP_NAME[p.phase]} ${p.step}/${p.totalSteps}${extra === '' ? '' : `  ${extra}`}` +
      `  ETA ${formatDuration(etaMs(p))}`;
    return text.length >= columns() ? text.slice(0, columns() - 1) : text;
  };

  const print = (p: TrainingProgress): void => {
    if (tty) {
      stream.write(`\r\x1b[2K${bar(p)}`);
      lineOpen = true;
    } else {
      stream.write(plainLine(p));
    }
    lastPrinted = p;
    lastPrintAt = now();
  };

  const finishPhase = (): void => {
    if (last !== undefined && last !== lastPrinted) print(last);
    if (tty && lineOpen) {
      stream.write('\n');
      lineOpen = false;
    }
  };

  return {
    onProgress(p) {
      if (last !== undefined && last.phase !== p.phase) finishPhase();
      const phaseStart = lastPrinted === undefined || lastPrinted.phase !== p.phase;
      last = p;
      if (phaseStart || p.step >= p.totalSteps || now() - lastPrintAt >= intervalMs) print(p);
    },
    done() {
      finishPhase();
    },
  };
}
