import { Worker } from 'node:worker_threads';

/** A thread's entry module: the file `name` (.js or .ts) beside the module at `moduleUrl`. */
export interface ThreadEntry {
  readonly moduleUrl: string;
  readonly name: string;
}

/**
 * Starts the thread entry `name` that sits beside the module at `moduleUrl`: `name.js` when running
 * from dist/, `name.ts` under tsx. A TypeScript entry needs tsx's loader, and a new thread does not
 * inherit it, so the thread registers the loader before it imports the entry.
 */
export function spawnModuleThread(moduleUrl: string, name: string): Worker {
  if (!moduleUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, moduleUrl));
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL(`./${name}.ts`, moduleUrl).href);
  return new Worker(
    `import(${loader}).then((tsx) => { tsx.register(); return import(${entry}); });`,
    { eval: true },
  );
}
