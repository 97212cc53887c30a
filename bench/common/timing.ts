/** Time since it was made, from the monotonic clock. */
export interface Stopwatch {
  ms(): number;
  seconds(): number;
}

export function stopwatch(): Stopwatch {
  const started = performance.now();
  return {
    ms: () => performance.now() - started,
    seconds: () => (performance.now() - started) / 1000,
  };
}

/** A log that prefixes each line with the seconds since the log was made: `[  42s] line`. */
export function elapsedLog(write: (line: string) => void = console.log): (line: string) => void {
  const clock = stopwatch();
  return (line) => write(`[${clock.seconds().toFixed(0).padStart(4)}s] ${line}`);
}
