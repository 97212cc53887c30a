import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonCodec } from '../../../src/codec/json-codec.js';
import type { FeatureScanner } from '../../../src/codec/record-codec.js';
import { FeatureExtractor } from '../../../src/model/features.js';
import { SeededRandom } from '../../../src/model/rng.js';

const codec = new JsonCodec();
const label = { cluster: 5, confidence: 0.123456789, modelVersion: 7 };

function scannerFor(fields: string[], widths: number[]): FeatureScanner {
  const scanner = codec.featureScanner(fields, widths);
  assert.ok(scanner, `a scanner for ${fields.join(',')}`);
  return scanner;
}

/** What the slow path makes of `bytes`: the feature row, or the reason it refuses the value. */
function slowPath(fields: string[], widths: number[], bytes: Buffer): Float32Array | string {
  const extractor = new FeatureExtractor({ fields, widths });
  const row = new Float32Array(extractor.dims);
  try {
    extractor.extract(codec.decode(bytes), row, 0);
    return row;
  } catch (error) {
    return (error as { reason?: string }).reason ?? String(error);
  }
}

/** Reads `text` both ways: the scanner must accept it and agree with the slow path bit for bit. */
function assertRead(fields: string[], widths: number[], bytes: Buffer): Float32Array {
  const scanner = scannerFor(fields, widths);
  const row = new Float32Array(widths.reduce((a, b) => a + b, 0)).fill(Number.NaN);
  assert.equal(scanner.read(bytes, row, 0), true, `the scanner reads ${bytes.toString()}`);
  const expected = slowPath(fields, widths, bytes);
  assert.ok(expected instanceof Float32Array, `the slow path reads ${bytes.toString()}`);
  assert.deepEqual([...row].map(String), [...expected].map(String));
  assert.deepEqual(
    scanner.label(bytes, label),
    codec.encodeLabelled(codec.decode(bytes), label, bytes),
    'labels the bytes as the codec does',
  );
  return row;
}

function assertDeclined(fields: string[], widths: number[], bytes: Buffer): void {
  const scanner = scannerFor(fields, widths);
  const row = new Float32Array(widths.reduce((a, b) => a + b, 0));
  assert.equal(scanner.read(bytes, row, 0), false, `the scanner declines ${bytes.toString()}`);
}

const xy = [
  ['x', 'y'],
  [1, 1],
] as [string[], number[]];

void test('read() writes the features of a flat record, in the order of the feature list', () => {
  const row = assertRead(['b', 'a'], [1, 1], Buffer.from('{"id":"r1","a":1.25,"b":-3,"note":"x"}'));
  assert.deepEqual([...row], [-3, 1.25]);
});

void test('read() follows dot paths into nested objects and reads fixed-width arrays', () => {
  const fields = ['point.x', 'point.y', 'pixels', 'w'];
  const widths = [1, 1, 3, 1];
  const row = assertRead(
    fields,
    widths,
    Buffer.from('{"pixels":[0,128,255],"point":{"y":2,"x":1,"z":"skip"},"w":[0.5]}'),
  );
  assert.deepEqual([...row], [1, 2, 0, 128, 255, 0.5]);
});

for (const [what, text] of [
  ['whitespace everywhere', ' \t\r\n{ "x" : 1 ,\n\t"y":\r\n 2 } \n'],
  ['a byte order mark', '\ufeff{"x":1,"y":2}'],
  [
    'other fields of every JSON type',
    '{"s":"a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9","n":null,"t":true,"f":false,"o":{"a":[1,{"b":[]}],"c":{}},"e":[],"x":1,"y":2}',
  ],
  ['non-ASCII text in other fields', '{"name":"Zoë — 数据 🎉","x":1,"y":2}'],
  ['a non-ASCII key that leads nowhere', '{"größe":3,"x":1,"y":2}'],
  ['escaped keys in objects that hold no feature', '{"o":{"\\u0078":3,"\\"":[]},"x":1,"y":2}'],
  ['numbers of every form', '{"a":[0,-0,1e5,1E-5,1.5e+3,-2.5E-3],"x":-0,"y":123456789012345678}'],
  ['numbers beyond the fast path', '{"x":0.1234567890123456789,"y":1e-30}'],
  ['a number that rounds to zero', '{"x":1e-400,"y":5e-324}'],
] as const) {
  void test(`read() agrees with JSON.parse on ${what}`, () => {
    assertRead(...xy, Buffer.from(text, 'utf8'));
  });
}

for (const [what, text] of [
  ['a truncated object', '{"x":1,"y":2'],
  ['a trailing comma', '{"x":1,"y":2,}'],
  ['a missing colon', '{"x" 1,"y":2}'],
  ['a leading zero', '{"x":01,"y":2}'],
  ['a bare decimal point', '{"x":1.,"y":2}'],
  ['a number without an integer part', '{"x":.5,"y":2}'],
  ['a plus sign', '{"x":+1,"y":2}'],
  ['an exponent without digits', '{"x":1e,"y":2}'],
  ['NaN', '{"x":NaN,"y":2}'],
  ['Infinity', '{"x":Infinity,"y":2}'],
  ['a raw line feed in a string', '{"s":"a\nb","x":1,"y":2}'],
  ['an unknown escape', '{"s":"\\x41","x":1,"y":2}'],
  ['a short unicode escape', '{"s":"\\u12","x":1,"y":2}'],
  ['an unterminated string', '{"x":1,"y":2,"s":"abc}'],
  ['a misspelt literal', '{"t":tru,"x":1,"y":2}'],
  ['text after the object', '{"x":1,"y":2} x'],
  ['two objects', '{"x":1,"y":2}{}'],
  ['a top-level array', '[{"x":1,"y":2}]'],
  ['an empty value', ''],
  ['a feature given as text', '{"x":"1","y":2}'],
  ['a feature that is null', '{"x":null,"y":2}'],
  ['a missing feature', '{"x":1}'],
  ['a feature given twice', '{"x":1,"y":2,"x":3}'],
  ['an escaped key that spells a feature', '{"\\u0078":5,"x":1,"y":2}'],
  ['any escaped key beside features', '{"\\u0078x":5,"x":1,"y":2}'],
  ['a label field in the input', '{"x":1,"y":2,"cluster":4}'],
  ['a feature beyond float32', '{"x":1e39,"y":2}'],
  [
    'nesting deeper than the scanner follows',
    `{"x":1,"y":2,"deep":${'['.repeat(80)}${']'.repeat(80)}}`,
  ],
] as const) {
  void test(`read() declines ${what}`, () => {
    assertDeclined(...xy, Buffer.from(text, 'utf8'));
  });
}

for (const [what, bytes] of [
  [
    'invalid UTF-8 in a string',
    Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xff]), Buffer.from('","x":1,"y":2}')]),
  ],
  [
    'a truncated UTF-8 sequence',
    Buffer.concat([
      Buffer.from('{"s":"'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('","x":1,"y":2}'),
    ]),
  ],
  [
    'an overlong UTF-8 encoding',
    Buffer.concat([
      Buffer.from('{"s":"'),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('","x":1,"y":2}'),
    ]),
  ],
] as const) {
  void test(`read() declines ${what}, which the codec's decoder refuses`, () => {
    assertDeclined(...xy, bytes);
    assert.equal(slowPath(...xy, bytes), 'undecodable');
  });
}

void test('read() reads vectors of integers, short and long, as JSON.parse does', () => {
  const row = assertRead(['v'], [9], Buffer.from('{"v":[0,7,255,1234,12345,1234567, 8 ,-3,2e2]}'));
  assert.deepEqual([...row], [0, 7, 255, 1234, 12345, 1234567, 8, -3, 200]);
  assertDeclined(['v'], [2], Buffer.from('{"v":[1,01]}'));
  assertDeclined(['v'], [2], Buffer.from('{"v":[00,1]}'));
  assertDeclined(['v'], [2], Buffer.from('{"v":[1,2,]}'));
});

void test('read() declines arrays of the wrong length and numbers where arrays belong', () => {
  const fields = ['v'];
  assertDeclined(fields, [3], Buffer.from('{"v":[1,2]}'));
  assertDeclined(fields, [3], Buffer.from('{"v":[1,2,3,4]}'));
  assertDeclined(fields, [3], Buffer.from('{"v":1}'));
  assertDeclined(fields, [2], Buffer.from('{"v":[1,"2"]}'));
  assertDeclined(['p.x'], [1], Buffer.from('{"p":5}'));
  assertDeclined(['p.x'], [1], Buffer.from('{"p":{"x":1},"p":{"y":1}}'));
});

void test('featureScanner() gives no scanner for layouts it cannot read', () => {
  assert.equal(codec.featureScanner(['p', 'p.x'], [1, 1]), undefined);
  assert.equal(codec.featureScanner(['p.x', 'p'], [1, 1]), undefined);
  assert.equal(codec.featureScanner(['cluster'], [1]), undefined);
  assert.ok(codec.featureScanner(['a.cluster'], [1]), 'a nested field may be named cluster');
});

void test('read() converts numbers exactly as JSON.parse does, to the last bit of a double', () => {
  const rng = new SeededRandom(7);
  // The scanner writes whatever array it is given: a Float64Array shows the double itself.
  const scanner = scannerFor(['x'], [1]);
  const out = new Float64Array(1);
  let checked = 0;
  for (let i = 0; i < 20_000; i++) {
    const magnitude = Math.pow(10, Math.floor(rng.next() * 40) - 20);
    const value = (rng.next() * 2 - 1) * magnitude;
    const forms = [
      String(value),
      value.toExponential(Math.floor(rng.next() * 17)),
      value.toPrecision(1 + Math.floor(rng.next() * 21)),
      Math.abs(value) < 1e20 ? value.toFixed(Math.floor(rng.next() * 20)) : String(value),
    ];
    for (const text of forms) {
      const bytes = Buffer.from(`{"x":${text}}`);
      const expected = (JSON.parse(bytes.toString()) as { x: number }).x;
      if (!(Math.abs(expected) <= 3.4028234663852886e38)) continue;
      assert.equal(scanner.read(bytes, out as unknown as Float32Array, 0), true, text);
      assert.ok(Object.is(out[0], expected), `${text}: read ${out[0]}, JSON.parse ${expected}`);
      checked++;
    }
  }
  assert.ok(checked > 70_000);
});

void test('read() never accepts a value the slow path refuses or reads differently', () => {
  // Valid records, then each damaged at random: whatever the scanner accepts must be what
  // JSON.parse and the feature extractor make of the same bytes.
  const rng = new SeededRandom(11);
  const fields = ['a', 'b.c', 'v'];
  const widths = [1, 1, 2];
  const scanner = scannerFor(fields, widths);
  const alphabet = Buffer.from('{}[]",:.-+eE0123456789 \\u\nabtrnlsf\u00e9');
  let accepted = 0;
  let declined = 0;
  for (let i = 0; i < 20_000; i++) {
    const record = {
      id: Math.floor(rng.next() * 1000),
      a: Number(((rng.next() - 0.5) * 100).toFixed(3)),
      note: rng.next() < 0.5 ? 'plain' : 'é "quoted" \\ tab\t',
      b: { c: rng.next() < 0.1 ? -0 : Math.round(rng.next() * 50), d: [true, null] },
      v: [
        rng.next() < 0.5 ? Math.floor(rng.next() * 300) : rng.next(),
        Number((rng.next() * 1e6).toExponential(3)),
      ],
    };
    const bytes = Buffer.from(JSON.stringify(record, null, rng.next() < 0.2 ? 1 : undefined));
    const damaged = i % 4 === 0 ? bytes : damage(bytes, rng, alphabet);
    const row = new Float32Array(4);
    const read = scanner.read(damaged, row, 0);
    const expected = slowPath(fields, widths, damaged);
    if (read) {
      accepted++;
      assert.ok(
        expected instanceof Float32Array,
        `accepted ${damaged.toString()}, slow path: ${String(expected)}`,
      );
      assert.deepEqual([...row].map(String), [...expected].map(String), damaged.toString());
    } else {
      declined++;
      if (damaged === bytes) assert.fail(`declined an undamaged record ${bytes.toString()}`);
    }
  }
  assert.ok(accepted > 5_000 && declined > 5_000, `accepted ${accepted}, declined ${declined}`);
});

/** One random edit: a byte replaced, inserted or deleted, or a stretch repeated. */
function damage(bytes: Buffer, rng: SeededRandom, alphabet: Buffer): Buffer {
  const at = Math.floor(rng.next() * bytes.length);
  const pick = (): number => alphabet[Math.floor(rng.next() * alphabet.length)] as number;
  switch (Math.floor(rng.next() * 4)) {
    case 0: {
      const copy = Buffer.from(bytes);
      copy[at] = pick();
      return copy;
    }
    case 1:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([pick()]), bytes.subarray(at)]);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    default: {
      const end = Math.min(bytes.length, at + 1 + Math.floor(rng.next() * 8));
      return Buffer.concat([bytes.subarray(0, end), bytes.subarray(at)]);
    }
  }
}
