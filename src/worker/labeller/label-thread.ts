/**
 * The labelling thread: its own codec and tfjs backend, one model version at a time. Messages are
 * handled strictly in arrival order, so a chunk asked for after a `serve` is labelled by the new
 * version and one asked for before it by the old one. The thread's entry module
 * (`src/label-thread.ts`) calls `serveLabelling` with the schema registry's client.
 */
import type { RecordCodec } from '../../codec/record-codec.js';
import { initBackend } from '../../model/backend.js';
import { errorData } from '../../runtime/error-data.js';
import { packedTransfer, packValues, unpackValues } from '../../runtime/packed-values.js';
import { serveThread, Transferring } from '../../runtime/thread-channel.js';
import { ServingModel } from '../serving-model.js';
import type { SchemaRegistryFactory } from './codec-description.js';
import { codecFromDescription } from './codec-description.js';
import type { LabelledData, LabelProtocol } from './protocol.js';

export interface LabelThreadDeps {
  /** The client of the schema registry a Confluent Avro codec reads its schemas from. */
  readonly registryAt: SchemaRegistryFactory;
}

/** Answers the worker's requests on this thread (which must be a worker thread). */
export function serveLabelling(deps: LabelThreadDeps): void {
  let codec: RecordCodec | undefined;
  let serving: ServingModel | undefined;

  serveThread<LabelProtocol>({
    async init(init) {
      const backend = await initBackend(init.backend);
      codec = await codecFromDescription(init.codec, deps.registryAt);
      return backend;
    },
    requests: {
      serve(snapshot) {
        const next = new ServingModel(snapshot);
        serving?.dispose();
        serving = next;
        return undefined;
      },
      async label(packedValues) {
        if (codec === undefined || serving === undefined) {
          throw new Error('the labelling thread was asked to label before it had a model');
        }
        const values = unpackValues(packedValues);
        // `prepare` may wait on the registry; the next message waits for it.
        await codec.prepare?.(values);
        return labelledData(serving, values, codec);
      },
    },
  });
}

/** Labels `values` and lays the result out in buffers that travel back in a transfer list. */
function labelledData(
  serving: ServingModel,
  values: (Buffer | null)[],
  codec: RecordCodec,
): Transferring<LabelledData> {
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
  return new Transferring(result, transfer);
}
