import type { ModelSnapshot } from '../../model/types.js';
import type { LabelledChunk, Labeller, RecordCodec, SourceRecord } from '../ports.js';
import { labelledChunk, ServingModel, VersionHeaders } from '../serving-model.js';

/** Labels on the caller's thread with the codec it was given (any codec, injected ones too). */
export class InProcessLabeller implements Labeller {
  readonly kind = 'in-process';
  readonly concurrent = false;
  private readonly codec: RecordCodec;
  private readonly headers = new VersionHeaders();
  private serving: ServingModel | undefined;
  private closed = false;

  constructor(codec: RecordCodec) {
    this.codec = codec;
  }

  get version(): number | undefined {
    return this.serving?.version;
  }

  serve(snapshot: ModelSnapshot): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the labeller is closed'));
    const next = new ServingModel(snapshot);
    const previous = this.serving;
    this.serving = next;
    // Labelling is synchronous once the codec is prepared, so no chunk is using `previous` now.
    previous?.dispose();
    return Promise.resolve();
  }

  async label(records: readonly SourceRecord[]): Promise<LabelledChunk> {
    const values = records.map((r) => r.value);
    await this.codec.prepare?.(values);
    // Taken after the await: the version serving now labels the whole chunk.
    const serving = this.serving;
    if (serving === undefined) {
      throw new Error(this.closed ? 'the labeller is closed' : 'no model version is serving');
    }
    return labelledChunk(records, serving.labelValues(values, this.codec), this.headers);
  }

  close(): Promise<void> {
    this.closed = true;
    this.serving?.dispose();
    this.serving = undefined;
    return Promise.resolve();
  }
}
