import { z } from 'zod';

/**
 * zod schemas for one setting's text (as it arrives in an environment variable). Each schema
 * reports a single message that reads well after the variable's name:
 * `DEC_CLUSTERS: must be an integer >= 2`.
 */
export type FieldSchema<T> = z.ZodType<T, string>;

export function integer(min: number, max?: number): FieldSchema<number> {
  const message =
    max === undefined ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/, message)
    .transform(Number)
    .pipe(
      z
        .number()
        .int(message)
        .min(min, message)
        .max(max ?? Number.MAX_SAFE_INTEGER, message),
    );
}

/** A finite number; `exclusiveMin` rejects the bound itself (a learning rate of 0 is no rate). */
export function decimal(range: {
  min?: number;
  exclusiveMin?: number;
  max?: number;
}): FieldSchema<number> {
  const bounds: string[] = [];
  if (range.min !== undefined) bounds.push(`>= ${range.min}`);
  if (range.exclusiveMin !== undefined) bounds.push(`> ${range.exclusiveMin}`);
  if (range.max !== undefined) bounds.push(`<= ${range.max}`);
  const message = `must be a number${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}`;
  let n = z.number(message);
  if (range.min !== undefined) n = n.min(range.min, message);
  if (range.exclusiveMin !== undefined) n = n.gt(range.exclusiveMin, message);
  if (range.max !== undefined) n = n.max(range.max, message);
  return z
    .string()
    .trim()
    .regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, message)
    .transform(Number)
    .pipe(n);
}

export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): FieldSchema<T[number]> {
  return z
    .string()
    .trim()
    .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }));
}

const truthy = new Set(['true', '1', 'yes']);
const falsy = new Set(['false', '0', 'no']);

export function boolean(): FieldSchema<boolean> {
  return z
    .string()
    .trim()
    .transform((s) => s.toLowerCase())
    .refine((s) => truthy.has(s) || falsy.has(s), 'must be true or false')
    .transform((s) => truthy.has(s));
}

/** Non-empty text without surrounding blanks. */
export function text(): FieldSchema<string> {
  return z.string().trim().min(1, 'must not be empty');
}

/** Comma list of non-empty items: `a, b,c` → ['a', 'b', 'c']. */
export function list(itemMessage: string, item: RegExp = /^\S+$/): FieldSchema<readonly string[]> {
  return z
    .string()
    .transform((s) => s.split(',').map((part) => part.trim()))
    .refine((parts) => parts.length > 0 && parts.every((p) => item.test(p)), itemMessage);
}

/** Comma list of positive integers, or empty for "none" (e.g. DEC_HIDDEN: automatic sizes). */
export function integerList(message: string): FieldSchema<readonly number[]> {
  return z
    .string()
    .trim()
    .refine((s) => s === '' || /^\d+(\s*,\s*\d+)*$/.test(s), message)
    .transform((s) => (s === '' ? [] : s.split(',').map((part) => Number(part.trim()))))
    .refine((sizes) => sizes.every((v) => v >= 1 && Number.isSafeInteger(v)), message);
}

/** Kafka topic names: 1 to 249 of [a-zA-Z0-9._-], and not `.` or `..`. */
export function topic(): FieldSchema<string> {
  const message = 'must be a Kafka topic name (1-249 characters of a-z A-Z 0-9 . _ -)';
  return z
    .string()
    .trim()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, message)
    .refine((s) => s !== '.' && s !== '..', message);
}

export function httpUrl(): FieldSchema<string> {
  const message = 'must be an http or https URL';
  return z
    .string()
    .trim()
    .refine((s) => {
      try {
        const url = new URL(s);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    }, message);
}

/** An image size `WxH` (each at least 2), e.g. `28x28`. */
export function imageSize(): FieldSchema<{ width: number; height: number }> {
  const message = 'must be an image size such as 28x28 (width x height, each at least 2)';
  return z
    .string()
    .trim()
    .regex(/^\d+\s*[xX]\s*\d+$/, message)
    .transform((s) => {
      const [width, height] = s.split(/[xX]/).map((part) => Number(part.trim()));
      return { width: width ?? 0, height: height ?? 0 };
    })
    .refine((size) => size.width >= 2 && size.height >= 2, message);
}

/** An integer >= min, or the word `auto` (the value is then chosen at run time). */
export function integerOrAuto(min: number): FieldSchema<number | 'auto'> {
  const message = `must be an integer >= ${min} or auto`;
  return z
    .string()
    .trim()
    .refine((s) => s.toLowerCase() === 'auto' || /^[+-]?\d+$/.test(s), message)
    .transform((s): number | 'auto' => (s.toLowerCase() === 'auto' ? 'auto' : Number(s)))
    .refine((v) => v === 'auto' || (Number.isSafeInteger(v) && v >= min), message);
}
