/**
 * Which records of an input can be turned into features, and why the others cannot: the offline
 * commands name every bad record at once instead of stopping at the first. Light on purpose (no
 * tfjs), so a command can screen its input before it loads the model code.
 */
import { PoisonRecordError } from '../errors.js';
import { FeatureExtractor } from './features.js';

/** A record that cannot be turned into features, by its 0-based position in the input. */
export interface UnusableRecord {
  readonly index: number;
  readonly reason: string;
}

/**
 * Splits records into those whose features can be read (widths inferred from the first usable
 * record, as training infers them) and the rest, each with its reason, so that a command can
 * name every bad record at once instead of stopping at the first.
 */
export function screenRecords(
  records: readonly unknown[],
  fields: readonly string[],
): { usable: number[]; unusable: UnusableRecord[] } {
  const usable: number[] = [];
  const unusable: UnusableRecord[] = [];
  let extractor: FeatureExtractor | undefined;
  let row = new Float32Array(0);
  records.forEach((record, index) => {
    try {
      if (extractor === undefined) {
        extractor = FeatureExtractor.infer(fields, record);
        row = new Float32Array(extractor.dims);
      }
      extractor.extract(record, row, 0);
      usable.push(index);
    } catch (error) {
      if (!(error instanceof PoisonRecordError)) throw error;
      unusable.push({ index, reason: error.message });
    }
  });
  return { usable, unusable };
}

/**
 * How many records are unusable, naming the first few by `where` (default: the 1-based record
 * number; a command reading a file names its file and line).
 */
export function describeUnusableRecords(
  unusable: readonly UnusableRecord[],
  total: number,
  where: (index: number) => string = (index) => `record ${index + 1}`,
  named = 5,
): string {
  const listed = unusable
    .slice(0, named)
    .map((u) => `${where(u.index)}: ${u.reason}`)
    .join('; ');
  const more = unusable.length > named ? `; and ${unusable.length - named} more` : '';
  const verb = unusable.length === 1 ? 'has' : 'have';
  return `${unusable.length} of ${total} record${total === 1 ? '' : 's'} ${verb} no usable features (${listed}${more})`;
}
