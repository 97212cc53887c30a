/**
 * The refinement thread: owns its own tfjs backend and a RefinementEngine, and answers refine /
 * rebootstrap requests from the main thread one at a time, so mini-batch training never runs on the
 * thread that labels records.
 */
import os from 'node:os';
import { initBackend } from '../../model/backend.js';
import type { Matrix } from '../../model/types.js';
import { FeatureWindow } from '../../online/feature-window.js';
import { RefinementEngine } from '../../online/refinement-engine.js';
import { serveThread } from '../../runtime/thread-channel.js';
import type { RefineProtocol } from './protocol.js';

let engine: RefinementEngine | undefined;
let window = new FeatureWindow(1);

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The engine, once the window has taken `batches`. */
function engineWith(batches: readonly Matrix[]): RefinementEngine {
  if (engine === undefined) throw new Error('refine-thread received work before init');
  for (const batch of batches) window.push(batch);
  return engine;
}

serveThread<RefineProtocol>({
  async init(init, context) {
    if (init.nice !== 0) {
      try {
        os.setPriority(0, init.nice);
      } catch (error) {
        context.emit(`refiner: could not lower thread priority (${describe(error)})`);
      }
    }
    const backend = await initBackend(init.backend, (line) => context.emit(`refiner ${line}`));
    engine?.dispose();
    engine = new RefinementEngine(init.snapshot, init.settings);
    window = new FeatureWindow(init.windowRecords);
    return backend;
  },
  requests: {
    replace(snapshot) {
      engine?.replace(snapshot);
      window.clear();
      return undefined;
    },
    refine({ batches, clusterSizes }) {
      return engineWith(batches).refine(window.snapshot(), clusterSizes);
    },
    rebootstrap({ batches, options }) {
      return engineWith(batches).rebootstrap(window.snapshot(), options);
    },
    close(_body, context) {
      engine?.dispose();
      engine = undefined;
      context.finish();
      return undefined;
    },
  },
});
