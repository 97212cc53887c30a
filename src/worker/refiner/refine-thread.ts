/**
 * The refinement thread: owns its own tfjs backend and a RefinementEngine, and answers refine /
 * rebootstrap requests from the main thread one at a time, so mini-batch training never runs on the
 * thread that labels records.
 */
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../../model/backend.js';
import { FeatureWindow } from '../../online/feature-window.js';
import { RefinementEngine } from '../../online/refinement-engine.js';
import type { FromThread, ToThread } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('refine-thread must run as a worker thread');

let engine: RefinementEngine | undefined;
let window = new FeatureWindow(1);

function send(message: FromThread): void {
  port?.postMessage(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// eslint-disable-next-line max-lines-per-function -- one short case per message type, so the thread's protocol reads in one place
async function handle(message: ToThread): Promise<void> {
  switch (message.type) {
    case 'init': {
      if (message.nice !== 0) {
        try {
          os.setPriority(0, message.nice);
        } catch (error) {
          send({
            type: 'log',
            message: `refiner: could not lower thread priority (${describe(error)})`,
          });
        }
      }
      try {
        const backend = await initBackend(message.backend, (line) =>
          send({ type: 'log', message: `refiner ${line}` }),
        );
        engine?.dispose();
        engine = new RefinementEngine(message.snapshot, message.settings);
        window = new FeatureWindow(message.windowRecords);
        send({ type: 'ready', backend });
      } catch (error) {
        send({ type: 'failed', id: 0, message: describe(error) });
      }
      return;
    }
    case 'replace':
      engine?.replace(message.snapshot);
      window.clear();
      return;
    case 'refine':
    case 'rebootstrap': {
      if (engine === undefined) {
        send({
          type: 'failed',
          id: message.id,
          message: 'refine-thread received work before init',
        });
        return;
      }
      try {
        for (const batch of message.batches) window.push(batch);
        const recent = window.snapshot();
        const outcome =
          message.type === 'refine'
            ? engine.refine(recent, message.clusterSizes)
            : await engine.rebootstrap(recent, message.options);
        send({ type: 'outcome', id: message.id, outcome });
      } catch (error) {
        send({ type: 'failed', id: message.id, message: describe(error) });
      }
      return;
    }
    case 'close':
      engine?.dispose();
      engine = undefined;
      send({ type: 'closed' });
      port?.close();
      return;
  }
}

// Requests are handled strictly in order: the next waits for the previous one to finish.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToThread) => {
  queue = queue
    .then(() => handle(message))
    .catch((error: unknown) => {
      send({ type: 'log', message: `refiner: ${describe(error)}` });
    });
});
