/**
 * fast-check arbitraries for the fuzzer's payloads, one family per input format. Each starts from
 * valid values (records of the fuzz schema, see fuzz-model.ts) and breaks them on purpose: wrong
 * types, missing fields, numbers past the float32 range, NaN and Infinity spelled as text, deep
 * nesting, invalid UTF-8, truncation, byte-level mutations, random bytes.
 */
import avro from 'avsc';
import type { Type } from 'avsc';
import fc from 'fast-check';
import {
  csvColumns,
  incompatibleSchema,
  readerSchema,
  SchemaIds,
  writerSchemaV2,
} from './fuzz-model.js';

/** One generated value and the generator that made it (named in violation reports). */
export interface Payload {
  readonly kind: string;
  readonly value: Buffer | null;
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations

type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly byte: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'extend'; readonly bytes: Uint8Array };

const position = fc.nat({ max: 1 << 16 });
const someBytes = fc.uint8Array({ minLength: 1, maxLength: 12 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip'), at: position, bit: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set'), at: position, byte: fc.nat(255) }) },
  fc.record({ op: fc.constant('insert'), at: position, bytes: someBytes }),
  fc.record({ op: fc.constant('delete'), at: position, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate'), at: position }),
  fc.record({ op: fc.constant('extend'), bytes: someBytes }),
);

/** `bytes` with `m` applied; positions wrap around the current length. */
function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = bytes.length === 0 ? 0 : ((m as { at?: number }).at ?? 0);
  const i = bytes.length === 0 ? 0 : at % bytes.length;
  switch (m.op) {
    case 'flip': {
      if (bytes.length === 0) return bytes;
      const out = Buffer.from(bytes);
      out[i] = (out[i] as number) ^ (1 << m.bit);
      return out;
    }
    case 'set': {
      if (bytes.length === 0) return bytes;
      const out = Buffer.from(bytes);
      out[i] = m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, i), m.bytes, bytes.subarray(i)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + m.count)]);
    case 'truncate':
      return Buffer.from(bytes.subarray(0, i));
    case 'extend':
      return Buffer.concat([bytes, m.bytes]);
  }
}

/** Valid bytes from `base`, then one to four mutations. */
export function mutated(base: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([bytes, mutations]) => mutations.reduce(mutate, bytes));
}

/** Valid bytes from `base`, cut at a random point (possibly empty). */
function truncated(base: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(base, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }))
    .map(([bytes, at]) => Buffer.from(bytes.subarray(0, Math.floor(bytes.length * at))));
}

const randomBytes = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b));

function tagged(kind: string, arbitrary: fc.Arbitrary<Buffer | null>): fc.Arbitrary<Payload> {
  return arbitrary.map((value) => ({ kind, value }));
}

// ---------------------------------------------------------------------------------------------
// Records of the fuzz schema

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const moderateDouble = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const moderateFloat = fc.float({ min: -1e6, max: 1e6, noNaN: true });

export interface FuzzRecord {
  id: string;
  x: number;
  y: number;
  point: { z: number };
  pixels: number[];
  tags: Record<string, number>;
  history: { z: number }[];
  kind: 'A' | 'B' | 'C';
  digest: Buffer;
  note: string | null;
}

/** Records every format can carry and the model can label. */
export const validRecord: fc.Arbitrary<FuzzRecord> = fc.record({
  id: fc.string({ maxLength: 12, unit: 'grapheme' }),
  x: moderateDouble,
  y: moderateFloat,
  point: fc.record({ z: int32 }),
  pixels: fc.array(moderateFloat, { minLength: 4, maxLength: 4 }),
  tags: fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 3 }),
  history: fc.array(fc.record({ z: int32 }), { maxLength: 3 }),
  kind: fc.constantFrom('A', 'B', 'C'),
  digest: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b)),
  note: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
});

/** Records that encode but should not label: any double or float, NaN, ±Infinity, wrong widths. */
const edgeRecord: fc.Arbitrary<FuzzRecord> = fc
  .tuple(
    validRecord,
    fc.record(
      {
        x: fc.oneof(fc.double(), fc.constantFrom(3.3e38, 1.8e38, 3.5e38, -1e300, Number.NaN)),
        y: fc.float(),
        pixels: fc.array(fc.float(), { maxLength: 8 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([record, edges]) => ({ ...record, ...edges }));

// ---------------------------------------------------------------------------------------------
// JSON

function jsonOf(record: FuzzRecord): Record<string, unknown> {
  return { ...record, digest: record.digest.toString('hex') };
}

const layouts = ['compact', 'indented', 'bom', 'spaced'] as const;

function jsonText(value: unknown, layout: (typeof layouts)[number]): Buffer {
  switch (layout) {
    case 'compact':
      return Buffer.from(JSON.stringify(value));
    case 'indented':
      return Buffer.from(JSON.stringify(value, null, 2));
    case 'bom':
      return Buffer.from(`\ufeff${JSON.stringify(value)}`);
    case 'spaced':
      return Buffer.from(` \r\n\t${JSON.stringify(value)}\n `);
  }
}

const validJson = fc
  .tuple(validRecord, fc.constantFrom(...layouts))
  .map(([record, layout]) => jsonText(jsonOf(record), layout));

/** Number tokens as JSON text: valid, beyond float32 or float64, and not JSON at all. */
const numberToken = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.stringMatching(/^-?(0|[1-9]\d{0,30})(\.\d{1,30})?([eE][+-]?\d{1,4})?$/),
  fc.constantFrom(
    '1e39',
    '-1e39',
    '3.4028235e38',
    '3.4028234663852886e38',
    '3.4028235677973366e38',
    '1.7014118346046923e38',
    '1e308',
    '1e309',
    '-1e400',
    '1e-400',
    '-0',
    '0.0e0',
    '1E+2',
    '123456789012345678901234567890',
    '0.000000000000000000000000000001',
    '9007199254740993',
  ),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '"NaN"',
    '"Infinity"',
    '"1"',
    '01',
    '1.',
    '.5',
    '+1',
    '0x10',
    '1e',
    '--1',
    'true',
    'null',
    '[]',
    '{}',
    '[1]',
  ),
);

/** Feature values written as raw number tokens. */
const numberTokensJson = fc
  .record({
    x: numberToken,
    y: numberToken,
    z: numberToken,
    pixels: fc.array(numberToken, { minLength: 3, maxLength: 5 }),
  })
  .map(({ x, y, z, pixels }) =>
    Buffer.from(`{"id":"n","x":${x},"y":${y},"point":{"z":${z}},"pixels":[${pixels.join(',')}]}`),
  );

const featurePaths = [['x'], ['y'], ['point', 'z'], ['point'], ['pixels']] as const;

/** A valid record with one feature path set to any JSON value, or deleted. */
const wrongTypeJson = fc
  .tuple(
    validRecord,
    fc.constantFrom(...featurePaths),
    fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  )
  .map(([record, path, replacement]) => {
    const value = jsonOf(record);
    let target = value;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
    const last = path[path.length - 1] as string;
    if (replacement === undefined) delete target[last];
    else target[last] = replacement;
    return Buffer.from(JSON.stringify(value));
  });

/** A value `depth` levels deep, of arrays or of objects. */
function nested(depth: number, objects: boolean): string {
  return objects
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Deep nesting beside the features, inside a feature's parent, or with a label field present. */
const deepJson = fc
  .record({
    record: validRecord,
    depth: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 100, max: 30_000 })),
    objects: fc.boolean(),
    where: fc.constantFrom('top', 'point', 'label', 'feature'),
  })
  .map(({ record, depth, objects, where }) => {
    const body = JSON.stringify(jsonOf(record)).slice(1, -1);
    const deep = nested(depth, objects);
    switch (where) {
      case 'top':
        return Buffer.from(`{"deep":${deep},${body}}`);
      case 'point':
        return Buffer.from(`{${body.replace('"point":{', `"point":{"deep":${deep},`)}}`);
      case 'label':
        return Buffer.from(`{${body},"cluster":7,"deep":${deep}}`);
      default:
        return Buffer.from(`{${body.replace('"x":', `"x":${deep},"ignored":`)}}`);
    }
  });

/** Keys that only the slow path reads right: label names, duplicates, escapes, prototype keys. */
const trickyKeyJson = fc
  .tuple(
    validRecord,
    fc.constantFrom(
      '"cluster":1',
      '"confidence":"x"',
      '"model_version":null',
      '"x":"again"',
      '"x":5',
      '"\\u0078":3',
      '"\\u0063luster":2',
      '"__proto__":{"x":1}',
      '"constructor":{"prototype":{"x":1}}',
      '"point":{"z":"shadow"}',
      '"pixels":[1,2,3,4]',
    ),
    fc.boolean(),
  )
  .map(([record, member, before]) => {
    const body = JSON.stringify(jsonOf(record)).slice(1, -1);
    return Buffer.from(before ? `{${member},${body}}` : `{${body},${member}}`);
  });

/** Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, cut, beyond U+10FFFF. */
const invalidUtf8 = fc.constantFrom(
  [0x80],
  [0xff],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xef, 0xbb, 0xbf],
);

/** A valid record with a bad byte sequence inside a string, a key, or outside any string. */
const invalidUtf8Json = fc
  .tuple(validRecord, invalidUtf8, fc.constantFrom('value', 'key', 'outside'))
  .map(([record, bad, where]) => {
    const text = JSON.stringify({ ...jsonOf(record), id: 'ID' });
    const [head, tail] = text.split(where === 'key' ? '"id"' : '"ID"') as [string, string];
    const quote = where === 'outside' ? '' : '"';
    return Buffer.concat([
      Buffer.from(`${head}${quote}`),
      Buffer.from(bad),
      Buffer.from(`${quote}${tail}`),
    ]);
  });

/** Every JSON payload kind, weighted toward the interesting ones. */
export const jsonPayload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 6, arbitrary: tagged('valid', validJson) },
  {
    weight: 3,
    arbitrary: tagged(
      'edge-values',
      edgeRecord.map((r) => Buffer.from(JSON.stringify(jsonOf(r)))),
    ),
  },
  { weight: 4, arbitrary: tagged('number-tokens', numberTokensJson) },
  { weight: 4, arbitrary: tagged('wrong-types', wrongTypeJson) },
  { weight: 2, arbitrary: tagged('deep-nesting', deepJson) },
  { weight: 3, arbitrary: tagged('tricky-keys', trickyKeyJson) },
  { weight: 3, arbitrary: tagged('invalid-utf8', invalidUtf8Json) },
  { weight: 3, arbitrary: tagged('truncated', truncated(validJson)) },
  { weight: 6, arbitrary: tagged('mutated', mutated(validJson)) },
  { weight: 2, arbitrary: tagged('random-bytes', randomBytes) },
  {
    weight: 2,
    arbitrary: tagged(
      'random-json',
      fc.json({ maxDepth: 4 }).map((t) => Buffer.from(t)),
    ),
  },
  { weight: 1, arbitrary: tagged('no-value', fc.constant(null)) },
);

// ---------------------------------------------------------------------------------------------
// Plain Avro

const inputType: Type = avro.Type.forSchema(readerSchema);
const v2Type: Type = avro.Type.forSchema(writerSchemaV2);
const incompatibleType: Type = avro.Type.forSchema(incompatibleSchema);
/** The fields before `pixels`: what precedes the first array block of a body. */
const headType: Type = avro.Type.forSchema({
  type: 'record',
  name: 'Head',
  fields: (readerSchema as { fields: unknown[] }).fields.slice(0, 4),
} as never);

function avroBody(record: FuzzRecord): Buffer {
  return inputType.toBuffer(record);
}

/** Avro long: zig-zag, then base-128 groups, least significant first (exact up to 2^52). */
export function zigZag(value: number): Buffer {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/**
 * Bodies whose array or map block claims far more items than the value holds: what one flipped
 * bit in a block count looks like. Nothing may read them item by item.
 */
const hugeBlockAvro = fc
  .record({
    record: validRecord,
    count: fc.oneof(
      fc.integer({ min: 1_000_000, max: 2 ** 32 }),
      fc.constantFrom(2 ** 31, 2 ** 32 - 1, 2 ** 40, 2 ** 52, -(2 ** 31)),
    ),
    where: fc.constantFrom('pixels', 'second-block', 'map'),
    tail: fc.uint8Array({ maxLength: 16 }),
  })
  .map(({ record, count, where, tail }) => {
    const head = headType.toBuffer(record);
    switch (where) {
      case 'pixels':
        return Buffer.concat([head, zigZag(count), tail]);
      case 'second-block':
        // One float, then a second block with the huge count.
        return Buffer.concat([head, zigZag(1), Buffer.alloc(4), zigZag(count), tail]);
      default:
        // Empty pixels, then the tags map's block count.
        return Buffer.concat([head, zigZag(0), zigZag(count), tail]);
    }
  });

const validAvro = validRecord.map(avroBody);

export const avroPayload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 5, arbitrary: tagged('valid', validAvro) },
  { weight: 3, arbitrary: tagged('edge-values', edgeRecord.map(avroBody)) },
  { weight: 8, arbitrary: tagged('mutated', mutated(validAvro)) },
  { weight: 2, arbitrary: tagged('truncated', truncated(validAvro)) },
  {
    weight: 2,
    arbitrary: tagged(
      'extended',
      fc.tuple(validAvro, someBytes).map(([b, extra]) => Buffer.concat([b, extra])),
    ),
  },
  { weight: 2, arbitrary: tagged('huge-block', hugeBlockAvro) },
  { weight: 2, arbitrary: tagged('random-bytes', randomBytes) },
  { weight: 1, arbitrary: tagged('no-value', fc.constant(null)) },
);

// ---------------------------------------------------------------------------------------------
// Confluent wire format

function framed(id: number, body: Buffer, magic = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = magic;
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

const knownIds: readonly number[] = Object.values(SchemaIds);
const unknownId = fc
  .oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 20 }))
  .filter((id) => !knownIds.includes(id));

const validFramed = fc.oneof(
  validRecord.map((r) => framed(SchemaIds.reader, avroBody(r))),
  fc
    .tuple(validRecord, fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }))
    .map(([r, camera]) => framed(SchemaIds.v2, v2Type.toBuffer({ ...r, camera }))),
);

export const confluentPayload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 5, arbitrary: tagged('valid', validFramed) },
  {
    weight: 2,
    arbitrary: tagged(
      'edge-values',
      edgeRecord.map((r) => framed(SchemaIds.reader, avroBody(r))),
    ),
  },
  { weight: 6, arbitrary: tagged('mutated', mutated(validFramed)) },
  {
    weight: 2,
    arbitrary: tagged(
      'unknown-schema-id',
      fc.tuple(unknownId, validAvro).map(([id, body]) => framed(id, body)),
    ),
  },
  {
    weight: 1,
    arbitrary: tagged(
      'incompatible-schema',
      fc
        .bigInt({ min: -(2n ** 50n), max: 2n ** 50n })
        .map((id) => framed(SchemaIds.incompatible, incompatibleType.toBuffer({ id: Number(id) }))),
    ),
  },
  {
    weight: 2,
    arbitrary: tagged(
      'bad-magic-byte',
      fc
        .tuple(fc.integer({ min: 1, max: 255 }), validAvro)
        .map(([magic, body]) => framed(SchemaIds.reader, body, magic)),
    ),
  },
  {
    weight: 2,
    arbitrary: tagged(
      'truncated-header',
      fc
        .tuple(validFramed, fc.integer({ min: 0, max: 4 }))
        .map(([b, n]) => Buffer.from(b.subarray(0, n))),
    ),
  },
  {
    weight: 1,
    arbitrary: tagged(
      'huge-block',
      fc
        .tuple(hugeBlockAvro, fc.constantFrom(SchemaIds.reader, SchemaIds.v2))
        .map(([body, id]) => framed(id, body)),
    ),
  },
  { weight: 1, arbitrary: tagged('random-bytes', randomBytes) },
  { weight: 1, arbitrary: tagged('no-value', fc.constant(null)) },
);

// ---------------------------------------------------------------------------------------------
// CSV for the CLI (a header line, then data lines)

const csvHeader = csvColumns.join(',');

/** A number as a CSV cell: plain, exponent, leading sign or dot, padded, quoted. */
const csvNumber = fc
  .tuple(
    fc.oneof(
      moderateDouble.map(String),
      fc.integer({ min: -1000, max: 1000 }).map(String),
      fc.constantFrom('.5', '+2', '-3.', '1e3', '2.5E-2'),
    ),
    fc.constantFrom('plain', 'padded', 'quoted'),
  )
  .map(([text, style]) =>
    style === 'plain' ? text : style === 'padded' ? ` ${text} ` : `"${text}"`,
  );

const csvText = fc
  .string({ maxLength: 10, unit: 'grapheme' })
  .map((text) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text));

const validCsvRow = fc
  .tuple(csvText, csvNumber, csvNumber, csvNumber, csvText)
  .map((cells) => cells.join(','));

/** Cells that must not become features: beyond float32 after scaling, NaN, words, blanks. */
const edgeCell = fc.oneof(
  csvNumber,
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '+Infinity',
    '1e39',
    '3.3e38',
    '1.8e38',
    '-1e400',
    '1e-400',
    '0x10',
    '1,5',
    '',
    ' ',
    'abc',
    '"',
    '""',
    '"1"2',
  ),
  fc.stringMatching(/^[+-]?(\d{1,40})?(\.\d{0,40})?([eE][+-]?\d{1,4})?$/),
);

const edgeCsvRow = fc
  .tuple(csvText, edgeCell, edgeCell, edgeCell, csvText)
  .map((cells) => cells.join(','));

const odd = fc.oneof(
  fc.array(edgeCell, { maxLength: 8 }).map((cells) => cells.join(',')),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ maxLength: 40, unit: 'binary-ascii' }),
);

/** Header names, including paths that would reach Object.prototype if followed naively. */
const columnName = fc.oneof(
  fc.constantFrom(
    'x',
    'y',
    'point.z',
    'point',
    'x.y',
    '',
    ' x ',
    '__proto__.polluted',
    '__proto__',
    'constructor.prototype.polluted',
    'toString.polluted',
    'point.__proto__.polluted',
    'hasOwnProperty',
  ),
  fc.string({ maxLength: 8 }),
);

const fuzzedHeaderCsv = fc
  .tuple(
    fc.array(columnName, { minLength: 1, maxLength: 6 }),
    fc.array(edgeCell, { minLength: 1, maxLength: 6 }),
  )
  .map(([columns, cells]) => `${columns.join(',')}\n${cells.join(',')}\n`);

function csvDocument(rows: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      fc.array(rows, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
    )
    .map(([lines, eol, bom]) =>
      Buffer.from(`${bom ? '\ufeff' : ''}${csvHeader}${eol}${lines.join(eol)}${eol}`),
    );
}

const validCsv = csvDocument(validCsvRow);

export const csvPayload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 5, arbitrary: tagged('valid', validCsv) },
  { weight: 5, arbitrary: tagged('edge-values', csvDocument(edgeCsvRow)) },
  { weight: 3, arbitrary: tagged('odd-lines', csvDocument(odd)) },
  {
    weight: 3,
    arbitrary: tagged(
      'fuzzed-header',
      fuzzedHeaderCsv.map((t) => Buffer.from(t)),
    ),
  },
  { weight: 3, arbitrary: tagged('mutated', mutated(validCsv)) },
  { weight: 1, arbitrary: tagged('truncated', truncated(validCsv)) },
  { weight: 1, arbitrary: tagged('random-bytes', randomBytes) },
);

// ---------------------------------------------------------------------------------------------
// JSON lines for the CLI (one JSON object per line)

const validJsonLines = fc
  .tuple(fc.array(validRecord, { minLength: 1, maxLength: 3 }), fc.constantFrom('\n', '\r\n'))
  .map(([records, eol]) =>
    Buffer.from(`${records.map((r) => JSON.stringify(jsonOf(r))).join(eol)}${eol}`),
  );

export const jsonLinesPayload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 4, arbitrary: tagged('valid', validJsonLines) },
  {
    weight: 5,
    arbitrary: tagged(
      'mixed-lines',
      fc
        .array(jsonPayload, { minLength: 1, maxLength: 3 })
        .map((payloads) =>
          Buffer.concat(payloads.flatMap((p) => [p.value ?? Buffer.alloc(0), Buffer.from('\n')])),
        ),
    ),
  },
  { weight: 3, arbitrary: tagged('mutated', mutated(validJsonLines)) },
  { weight: 1, arbitrary: tagged('random-bytes', randomBytes) },
);
