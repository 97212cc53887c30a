import { PoisonRecordError, PoisonReason } from '../errors.js';
import { JsonFeatureScanner } from './json-feature-scanner.js';
import type { FeatureScanner, Label, OutputDetail, RecordCodec } from './record-codec.js';
import { DetailField, LabelField } from './record-codec.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON values that are objects; output is the input object plus cluster, confidence, model_version
 * (and runner_up, margin with output detail 'full').
 */
export class JsonCodec implements RecordCodec {
  readonly outputDetail: OutputDetail;
  private readonly tail = new LabelTail();
  /** Every top-level name the output writes. */
  private readonly outputNames: readonly string[];

  constructor(options: { readonly outputDetail?: OutputDetail } = {}) {
    this.outputDetail = options.outputDetail ?? 'basic';
    this.outputNames = [
      ...Object.values(LabelField),
      ...(this.outputDetail === 'full' ? Object.values(DetailField) : []),
    ];
  }

  decode(bytes: Buffer | null): Record<string, unknown> {
    if (bytes === null) {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'record has no value');
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'value is not valid UTF-8');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'value is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
      throw new PoisonRecordError(
        PoisonReason.Undecodable,
        `value is JSON ${kind}, not a JSON object`,
      );
    }
    return value as Record<string, unknown>;
  }

  /**
   * The record plus the three label fields. With `source` (the bytes `record` was decoded from) the
   * label is appended to those bytes before their closing brace: no serialising at all. Without
   * it, the record's own JSON text gets the label spliced in, which costs about a third of
   * building a spread copy first (V8 stringifies the spread object on a slow path). A record that
   * already holds a label field takes the copy, so the label's values win, as they always did.
   */
  encodeLabelled(record: Record<string, unknown>, label: Label, source?: Buffer | null): Buffer {
    if (this.outputNames.some((name) => Object.hasOwn(record, name))) {
      return Buffer.from(
        stringify({
          ...record,
          cluster: label.cluster,
          confidence: label.confidence,
          ...(label.runnerUp === undefined
            ? {}
            : { runner_up: label.runnerUp, margin: label.margin }),
          model_version: label.modelVersion,
        }),
        'utf8',
      );
    }
    if (source != null) {
      const appended = this.tail.append(source, label);
      if (appended !== undefined) return appended;
    }
    const body = stringify(record);
    // body is "{}" or "{...}": drop its closing brace, add a comma unless it was empty.
    const text =
      body.length > 2 ? `${body.slice(0, -1)},${labelTail(label)}` : `{${labelTail(label)}`;
    return Buffer.from(text, 'utf8');
  }

  featureScanner(fields: readonly string[], widths: readonly number[]): FeatureScanner | undefined {
    return JsonFeatureScanner.for(fields, widths, {
      append: (source, label) => this.tail.append(source, label),
      encode: (source, label) => this.encodeLabelled(this.decode(source), label, source),
      extraNames: this.outputDetail === 'full' ? Object.values(DetailField) : [],
    });
  }
}

/**
 * JSON text of a decoded record. JSON.parse reads any depth of nesting, but JSON.stringify recurses
 * and runs out of stack on a deep one (some ten thousand levels): such a record cannot be written
 * again, which makes it a poison record, not a failure of the worker.
 */
function stringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new PoisonRecordError(
      PoisonReason.Undecodable,
      'value nests too deeply to be written again with its label',
    );
  }
}

/** The label fields and the closing brace, as JSON text (ASCII only). */
function labelTail(label: Label): string {
  return (
    `"cluster":${JSON.stringify(label.cluster)},` +
    `"confidence":${JSON.stringify(label.confidence)},` +
    detailText(label) +
    `"model_version":${JSON.stringify(label.modelVersion)}}`
  );
}

/** `"runner_up":<r>,"margin":<m>,` for a label that carries them, else nothing. */
function detailText(label: Label): string {
  if (label.runnerUp === undefined) return '';
  return (
    `"${DetailField.RunnerUp}":${JSON.stringify(label.runnerUp)},` +
    `"${DetailField.Margin}":${JSON.stringify(label.margin ?? null)},`
  );
}

/** JSON's insignificant whitespace: space, tab, line feed, carriage return. */
function isJsonSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Appends the label to a JSON object's bytes. The label's text repeats but for the confidence: the
 * cluster part is kept as bytes per cluster, the model-version part per version, and only the
 * confidence is formatted per record (half of what building the whole tail as a string cost).
 */
class LabelTail {
  /** `"cluster":<c>,"confidence":` by cluster. */
  private readonly clusterParts: Buffer[] = [];
  private version = Number.NaN;
  /** `,"model_version":<v>}` for `version`. */
  private versionPart = Buffer.alloc(0);

  /**
   * `source`, a JSON object that decoded without error, up to its closing brace, then the label:
   * the input fields stay exactly as they were written. A UTF-8 byte order mark (which the decoder
   * skips) and whitespace around the object are dropped. Undefined when the bytes do not look like
   * `{ ... }`, so the caller serialises instead.
   */
  append(source: Buffer, label: Label): Buffer | undefined {
    let start = 0;
    if (source[0] === 0xef && source[1] === 0xbb && source[2] === 0xbf) start = 3;
    while (start < source.length && isJsonSpace(source[start])) start++;
    let end = source.length - 1;
    while (end > start && isJsonSpace(source[end])) end--;
    if (source[start] !== 0x7b || source[end] !== 0x7d || end === start) return undefined;
    // A member value never ends in "{", so the last byte before the closing brace (past
    // whitespace) is "{" exactly when the object is empty.
    let before = end - 1;
    while (before > start && isJsonSpace(source[before])) before--;
    const comma = source[before] === 0x7b ? 0 : 1;
    const clusterPart = this.clusterPart(label.cluster);
    // The detail goes between the confidence and the version part, whose text starts with a comma.
    const confidence =
      JSON.stringify(label.confidence) +
      (label.runnerUp === undefined ? '' : `,${detailText(label).slice(0, -1)}`);
    const versionPart = this.versionPartFor(label.modelVersion);
    const size = end - start + comma + clusterPart.length + confidence.length + versionPart.length;
    const out = Buffer.allocUnsafe(size);
    source.copy(out, 0, start, end);
    let at = end - start;
    if (comma === 1) out[at++] = 0x2c;
    out.set(clusterPart, at);
    at += clusterPart.length;
    // A number's JSON text is ASCII.
    for (let i = 0; i < confidence.length; i++) out[at++] = confidence.charCodeAt(i);
    out.set(versionPart, at);
    return out;
  }

  private clusterPart(cluster: number): Buffer {
    const cached =
      Number.isInteger(cluster) && cluster >= 0 ? this.clusterParts[cluster] : undefined;
    if (cached !== undefined) return cached;
    const part = Buffer.from(`"cluster":${JSON.stringify(cluster)},"confidence":`, 'latin1');
    if (Number.isInteger(cluster) && cluster >= 0 && cluster < 4096)
      this.clusterParts[cluster] = part;
    return part;
  }

  private versionPartFor(version: number): Buffer {
    if (!Object.is(version, this.version)) {
      this.version = version;
      this.versionPart = Buffer.from(`,"model_version":${JSON.stringify(version)}}`, 'latin1');
    }
    return this.versionPart;
  }
}
