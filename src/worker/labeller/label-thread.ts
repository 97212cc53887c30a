/**
 * The labelling thread: its own codec and tfjs backend, one model version at a time. Messages are
 * handled strictly in arrival order, so a chunk asked for after a `serve` is labelled by the new
 * version and one asked for before it by the old one.
 */
import { parentPort } from 'node:worker_threads';
import type { RecordCodec } from '../../codec/record-codec.js';
import { initBackend } from '../../model/backend.js';
import { ServingModel } from '../serving-model.js';
import { codecFromDescription } from './codec-description.js';
import type { FromThread, LabelledData, ToThread } from './protocol.js';
import { errorData, packedTransfer, packValues, unpackValues } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('label-thread must run as a worker thread');

let codec: RecordCodec | undefined;
let serving: ServingModel | undefined;

function send(message: FromThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

// eslint-disable-next-line max-lines-per-function -- one short case per message type, so the thread's protocol reads in one place
async function handle(message: ToThread): Promise<void> {
  switch (message.type) {
    case 'init': {
      try {
        const backend = await initBackend(message.backend);
        codec = await codecFromDescription(message.codec);
        send({ type: 'ready', backend });
      } catch (error) {
        send({ type: 'init-failed', error: errorData(error) });
      }
      return;
    }
    case 'serve': {
      try {
        const next = new ServingModel(message.snapshot);
        serving?.dispose();
        serving = next;
        send({ type: 'served', id: message.id });
      } catch (error) {
        send({ type: 'failed', id: message.id, error: errorData(error) });
      }
      return;
    }
    case 'label': {
      try {
        if (codec === undefined || serving === undefined) {
          throw new Error('the labelling thread was asked to label before it had a model');
        }
        const values = unpackValues(message.values);
        await codec.prepare?.(values);
        const labels = serving.labelValues(values, codec);
        const packed = packValues(labels.values);
        const assignment = labels.assignment;
        const result: LabelledData = {
          modelVersion: labels.modelVersion,
          indices: Int32Array.from(labels.indices),
          values: packed,
          failures: labels.failures.map((f) => ({ index: f.index, error: errorData(f.error) })),
          x: labels.x.data,
          rows: labels.x.rows,
          cols: labels.x.cols,
          assignment:
            assignment === undefined
              ? undefined
              : {
                  clusters: assignment.clusters,
                  cluster: assignment.cluster,
                  confidence: assignment.confidence,
                  q: assignment.q,
                  distance: assignment.distance,
                },
        };
        const transfer = packedTransfer(packed);
        transfer.push(result.indices.buffer as ArrayBuffer, result.x.buffer as ArrayBuffer);
        if (result.assignment !== undefined) {
          const a = result.assignment;
          transfer.push(
            a.cluster.buffer as ArrayBuffer,
            a.confidence.buffer as ArrayBuffer,
            a.q.buffer as ArrayBuffer,
            a.distance.buffer as ArrayBuffer,
          );
        }
        send({ type: 'labelled', id: message.id, result }, transfer);
      } catch (error) {
        send({ type: 'failed', id: message.id, error: errorData(error) });
      }
      return;
    }
  }
}

// One message at a time, in order: `prepare` may wait on the registry between two of them.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToThread) => {
  queue = queue.then(() => handle(message));
});
