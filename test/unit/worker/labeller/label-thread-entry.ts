import type { Worker } from 'node:worker_threads';
import type { ThreadEntry } from '../../../../src/runtime/module-thread.js';
import type { ThreadLabeller } from '../../../../src/worker/labeller/thread-labeller.js';

/** The labelling thread's entry module, as run-worker.ts names it: src/label-thread.ts. */
export const labelThreadEntry: ThreadEntry = {
  moduleUrl: new URL('../../../../src/run-worker.ts', import.meta.url).href,
  name: 'label-thread',
};

/** The labeller's thread itself (tests stop it to see what the labeller does then). */
export function threadOf(labeller: ThreadLabeller): Worker {
  return (labeller as unknown as { channel: { thread: Worker } }).channel.thread;
}
