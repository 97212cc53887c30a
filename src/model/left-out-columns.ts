/**
 * Naming the columns a model leaves out (Standardisation.weight), for logs and `inspect`.
 */
import { leftOutColumns } from './standardise.js';
import type { FeatureSpec, Standardisation } from './types.js';

/** How many names a one-line description lists before it counts the rest. */
const NAMES_LISTED = 10;

/** A column's name: `field` for a scalar field, `field[position]` inside a vector field. */
export function columnName(spec: FeatureSpec, column: number): string {
  let start = 0;
  for (const [f, field] of spec.fields.entries()) {
    const width = spec.widths[f] as number;
    if (column < start + width) return width === 1 ? field : `${field}[${column - start}]`;
    start += width;
  }
  throw new RangeError(`column ${column} is outside the ${start} feature columns`);
}

/** The names of the columns left out, in column order. */
export function leftOutColumnNames(s: Standardisation, spec: FeatureSpec): string[] {
  return leftOutColumns(s).map((c) => columnName(spec, c));
}

/** One line naming the left-out columns, or undefined when every column is used. */
export function describeLeftOutColumns(
  names: readonly string[],
  totalColumns: number,
): string | undefined {
  if (names.length === 0) return undefined;
  const listed = names.slice(0, NAMES_LISTED).join(', ');
  const more = names.length > NAMES_LISTED ? ` and ${names.length - NAMES_LISTED} more` : '';
  return (
    `left out ${names.length} of ${totalColumns} feature columns, independent of every other ` +
    `column: ${listed}${more}`
  );
}
