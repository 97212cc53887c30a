import { PoisonReason, PoisonRecordError } from '../errors.js';
import {
  DeadLetterHeader,
  deadLetter,
  fitDeadLetter,
  headerBytes,
  outboundBytes,
} from './dead-letter.js';
import type { LabelledChunk, OutboundMessage, SourceRecord } from './ports.js';

/** The largest record, as outboundBytes() counts it, each topic takes. */
export interface RecordLimits {
  readonly labelledBytes: number;
  readonly deadLetterBytes: number;
}

/**
 * `chunk` with every labelled record larger than the output topic takes dead-lettered instead
 * (reason too-large, the source record's own bytes), and every dead letter cut to what the
 * dead-letter topic takes. A record the broker would refuse must not fail the produce: the unit
 * would fail again on every restart and the partition would stop there for good.
 *
 * `records` are the chunk's source records: the labelled ones are those without a dead letter,
 * in input order. A diverted record's features and assignment stay in the chunk (it was labelled;
 * only its output did not fit), so the refiner and the per-cluster counts still see it.
 */
export function applyRecordLimits(
  chunk: LabelledChunk,
  records: readonly SourceRecord[],
  limits: RecordLimits,
): LabelledChunk {
  const oversized = oversizedIndexes(chunk.labelled, limits.labelledBytes);
  const fits = (m: OutboundMessage): boolean => outboundBytes(m) <= limits.deadLetterBytes;
  if (oversized.size === 0 && chunk.deadLetters.every(fits)) return chunk;

  const diverted = divert(chunk, records, oversized, limits.labelledBytes);
  const deadReasons = new Map(chunk.deadReasons);
  if (diverted.deadLetters.length > 0) {
    const count = deadReasons.get(PoisonReason.TooLarge) ?? 0;
    deadReasons.set(PoisonReason.TooLarge, count + diverted.deadLetters.length);
  }
  return {
    ...chunk,
    labelled: diverted.labelled,
    deadLetters: [...chunk.deadLetters, ...diverted.deadLetters].map((m) =>
      fitDeadLetter(m, limits.deadLetterBytes),
    ),
    deadReasons,
  };
}

/** Indexes of the messages above `maxBytes`; records of a chunk share header sets, sized once. */
function oversizedIndexes(messages: readonly OutboundMessage[], maxBytes: number): Set<number> {
  const found = new Set<number>();
  const sizes = new Map<OutboundMessage['headers'], number>();
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as OutboundMessage;
    let headers = sizes.get(message.headers);
    if (headers === undefined) {
      headers = headerBytes(message.headers);
      sizes.set(message.headers, headers);
    }
    if (outboundBytes(message, headers) > maxBytes) found.add(i);
  }
  return found;
}

function divert(
  chunk: LabelledChunk,
  records: readonly SourceRecord[],
  oversized: ReadonlySet<number>,
  maxBytes: number,
): { labelled: OutboundMessage[]; deadLetters: OutboundMessage[] } {
  if (oversized.size === 0) return { labelled: chunk.labelled, deadLetters: [] };
  const sources = labelledSources(chunk, records);
  const labelled: OutboundMessage[] = [];
  const deadLetters: OutboundMessage[] = [];
  chunk.labelled.forEach((message, i) => {
    if (!oversized.has(i)) {
      labelled.push(message);
      return;
    }
    const size = outboundBytes(message);
    const error = new PoisonRecordError(
      PoisonReason.TooLarge,
      `the labelled record takes ${size} bytes; the output topic takes at most ${maxBytes}`,
    );
    deadLetters.push(deadLetter(sources[i] as SourceRecord, error));
  });
  return { labelled, deadLetters };
}

/** The source record of each labelled message: those the chunk did not dead-letter, in order. */
function labelledSources(chunk: LabelledChunk, records: readonly SourceRecord[]): SourceRecord[] {
  const dead = new Set<string>();
  for (const message of chunk.deadLetters) {
    const offset = message.headers[DeadLetterHeader.SourceOffset];
    if (typeof offset === 'string') dead.add(offset);
    else if (Buffer.isBuffer(offset)) dead.add(offset.toString());
  }
  const sources = records.filter((r) => !dead.has(r.offset));
  if (sources.length !== chunk.labelled.length) {
    // The labeller reports one labelled record per source record without a dead letter.
    throw new Error(
      `${sources.length} records without a dead letter but ${chunk.labelled.length} labelled`,
    );
  }
  return sources;
}
