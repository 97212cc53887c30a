/**
 * Messages between the worker and its publishing thread. A unit's keys and values travel as packed
 * buffers, transferred rather than copied; header objects travel once each, however many records
 * share them (every record without headers of its own shares the model-version header object).
 */
import type { DeliveryMode, KafkaConfig, OutputCompression } from '../../config/config.js';
import type { LogLevel } from '../../runtime/logger.js';
import type { PackedValues } from '../../runtime/packed-values.js';
import { packedTransfer, packValues, unpackValues } from '../../runtime/packed-values.js';
import type { Call } from '../../runtime/thread-channel.js';
import type { OutboundMessage, PublishUnit } from '../../worker/ports.js';
import { withEncodedHeaders } from '../encoded-headers.js';

type HeaderValue = OutboundMessage['headers'][string];
type CloneableHeaders = Readonly<Record<string, Uint8Array | string | (Uint8Array | string)[]>>;

export interface PackedMessages {
  readonly keys: PackedValues;
  readonly values: PackedValues;
  /** Each distinct headers object once. */
  readonly headerSets: readonly CloneableHeaders[];
  /** Message i has the headers headerSets[headerOf[i]]. */
  readonly headerOf: Int32Array;
}

export interface PackedUnit {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: string;
  readonly labelled: PackedMessages;
  readonly deadLetters: PackedMessages;
}

export interface PublisherSettings {
  readonly kafka: KafkaConfig;
  readonly delivery: DeliveryMode;
  readonly groupId: string;
  readonly outputTopic: string;
  readonly dlqTopic: string;
  readonly transactionalIdPrefix: string;
  readonly maxRequestBytes: number | undefined;
  /** Codec of the batches written; none when absent. */
  readonly compression?: OutputCompression;
}

/** A log line of the publishing thread, for the worker's logger. */
export interface PublisherLog {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type PublishProtocol = {
  /** The thread connects its producers before it answers. */
  readonly init: PublisherSettings;
  readonly ready: undefined;
  readonly requests: {
    /** Exactly-once: fences the partition's earlier producers and answers its committed offset. */
    readonly claim: Call<
      { readonly topic: string; readonly partition: number },
      string | undefined
    >;
    /** Exactly-once: the partitions' transactional producers are no longer needed. */
    readonly release: Call<
      { readonly topic: string; readonly partitions: readonly number[] },
      undefined
    >;
    /** Answers once the unit is produced (at-least-once) or its transaction committed. */
    readonly publish: Call<PackedUnit, undefined>;
    /** Disconnects the producers. */
    readonly close: Call<undefined, undefined>;
  };
  readonly event: PublisherLog;
};

/**
 * Header values are copied into small arrays of their own: a header read from Kafka is a view into
 * the whole fetch response, which a structured clone would copy entire.
 */
function cloneable(headers: OutboundMessage['headers']): CloneableHeaders {
  const out: Record<string, Uint8Array | string | (Uint8Array | string)[]> = {};
  const copy = (v: Buffer | string): Uint8Array | string =>
    typeof v === 'string' ? v : Uint8Array.from(v);
  for (const name of Object.keys(headers)) {
    const value = headers[name] as HeaderValue;
    out[name] = Array.isArray(value) ? value.map(copy) : copy(value);
  }
  return out;
}

function asBuffers(headers: CloneableHeaders): OutboundMessage['headers'] {
  const out: Record<string, Buffer | string | (Buffer | string)[]> = {};
  const view = (v: Uint8Array | string): Buffer | string =>
    typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  for (const name of Object.keys(headers)) {
    const value = headers[name] as CloneableHeaders[string];
    out[name] = Array.isArray(value) ? value.map(view) : view(value);
  }
  return out;
}

export function packMessages(messages: readonly OutboundMessage[]): PackedMessages {
  const headerSets: CloneableHeaders[] = [];
  const indexOf = new Map<OutboundMessage['headers'], number>();
  const headerOf = new Int32Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const headers = (messages[i] as OutboundMessage).headers;
    let index = indexOf.get(headers);
    if (index === undefined) {
      index = headerSets.length;
      headerSets.push(cloneable(headers));
      indexOf.set(headers, index);
    }
    headerOf[i] = index;
  }
  return {
    keys: packValues(messages.map((m) => m.key)),
    values: packValues(messages.map((m) => m.value)),
    headerSets,
    headerOf,
  };
}

/** The messages `packed` holds; messages that shared a headers object share one again. */
export function unpackMessages(packed: PackedMessages): OutboundMessage[] {
  const keys = unpackValues(packed.keys);
  const values = unpackValues(packed.values);
  // Each set is encoded once here, not once per record by the producer.
  const headerSets = packed.headerSets.map((set) => withEncodedHeaders(asBuffers(set)));
  const out = new Array<OutboundMessage>(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = {
      key: keys[i] ?? null,
      value: values[i] ?? null,
      headers: headerSets[packed.headerOf[i] as number] ?? {},
    };
  }
  return out;
}

export function packUnit(unit: PublishUnit): PackedUnit {
  return {
    topic: unit.topic,
    partition: unit.partition,
    nextOffset: unit.nextOffset,
    labelled: packMessages(unit.labelled),
    deadLetters: packMessages(unit.deadLetters),
  };
}

export function unpackUnit(packed: PackedUnit): PublishUnit {
  return {
    topic: packed.topic,
    partition: packed.partition,
    nextOffset: packed.nextOffset,
    labelled: unpackMessages(packed.labelled),
    deadLetters: unpackMessages(packed.deadLetters),
  };
}

/** The buffers of a packed unit, which its sender gives up. */
export function unitTransfer(unit: PackedUnit): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const messages of [unit.labelled, unit.deadLetters]) {
    list.push(
      ...packedTransfer(messages.keys),
      ...packedTransfer(messages.values),
      messages.headerOf.buffer as ArrayBuffer,
    );
  }
  return list;
}
