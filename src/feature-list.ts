/**
 * A feature list as the user writes it (`DEC_FEATURES`, `train --features`): plain parsing that
 * both the configuration and the model's feature extraction share, with no dependency of its own.
 */
import { UsageError } from './errors.js';

/**
 * Parses a feature list such as `f0,f1,f2`, `pixels` or `point.x,point.y,extra` into dot paths.
 * Whitespace around names is ignored; empty names, empty path segments and duplicates are refused.
 */
export function parseFeatureSpec(text: string): string[] {
  const fields = text.split(',').map((field) => field.trim());
  if (fields.length === 1 && fields[0] === '') {
    throw new UsageError('the feature list is empty: name at least one field, e.g. "f0,f1"');
  }
  const seen = new Set<string>();
  for (const field of fields) {
    checkFieldPath(field, text);
    if (seen.has(field)) {
      throw new UsageError(`the feature list "${text}" names the field "${field}" twice`);
    }
    seen.add(field);
  }
  return fields;
}

/** Refuses an empty field name or an empty segment in its dot path; `context` names the list. */
export function checkFieldPath(field: string, context: string): void {
  if (field === '') {
    throw new UsageError(`the feature list "${context}" has an empty field name`);
  }
  if (field.split('.').some((segment) => segment === '')) {
    throw new UsageError(`the feature field "${field}" has an empty path segment`);
  }
}
