import { spawn } from 'node:child_process';

/** The line prefix a child process puts before its result, so other output can pass through. */
const ResultPrefix = 'RESULT ';

/** Called in a child process: hands `result` to the parent that ran it with `runChild`. */
export function sendResult(result: unknown): void {
  process.stdout.write(`${ResultPrefix}${JSON.stringify(result)}\n`);
}

/**
 * Runs `script` in a new Node process with this process's flags (tsx included) and resolves with
 * the value it passed to `sendResult`. Its other output lines go to `echo` (dropped by default);
 * its stderr is inherited. Rejects when it exits non-zero or sends no result.
 */
export function runChild(
  script: string,
  args: readonly string[],
  echo: (line: string) => void = () => {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: unknown;
    let received = false;
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith(ResultPrefix)) {
          result = JSON.parse(line.slice(ResultPrefix.length)) as unknown;
          received = true;
        } else echo(line);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && received) resolve(result);
      else
        reject(
          new Error(`${args.join(' ')}: exited with code ${code}${received ? '' : ', no result'}`),
        );
    });
  });
}

/** Runs `run` on every item, at most `parallel` at a time, and hands each result to `onDone`. */
export async function inParallel<T, R>(
  items: readonly T[],
  parallel: number,
  run: (item: T) => Promise<R>,
  onDone: (item: T, result: R) => void = () => {},
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      onDone(item, await run(item));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, lane));
}
