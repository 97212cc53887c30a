import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NotMeasured,
  at,
  fillMarkers,
  renderBlocks,
  verdict,
} from '../../../scripts/gen-benchmarks-doc.js';

void test('at() follows dotted paths through objects and arrays and gives undefined past a gap', () => {
  const root = { a: { b: [{ c: 3 }] } };
  assert.equal(at(root, 'a.b.0.c'), 3);
  assert.equal(at(root, 'a.x.0.c'), undefined);
  assert.equal(at(undefined, 'a'), undefined);
});

void test('verdict() says yes, no, or not measured when the figure is missing', () => {
  assert.equal(
    verdict(0.9, (v) => v >= 0.85),
    'yes',
  );
  assert.equal(
    verdict(0.6, (v) => v >= 0.85),
    'no',
  );
  assert.equal(
    verdict(undefined, (v) => v >= 0.85),
    NotMeasured,
  );
});

void test('every block renders "not measured" instead of failing when results are missing', () => {
  const blocks = renderBlocks({});
  for (const [name, block] of Object.entries(blocks)) {
    assert.ok(block.includes(NotMeasured), `${name} says not measured`);
  }
});

void test('a result without some fields renders the rest and marks the missing ones', () => {
  const blocks = renderBlocks({
    quality: {
      mnist: {
        defaultMethod: 'idec',
        summary: { idec: { acc: { median: 0.9, min: 0.88, max: 0.91 } } },
      },
    },
  });
  assert.match(
    blocks.quality ?? '',
    /\| IDEC \(default\) \| 0\.900 \(0\.880–0\.910\) \| not measured \|/,
  );
  assert.match(blocks.quality ?? '', /≥ 0\.85 median \| yes \|/);
  assert.ok((blocks.quality ?? '').includes('The one measured target is met.'));
});

void test('fillMarkers() replaces only the text between a pair of markers', () => {
  const doc = [
    'intro',
    '<!-- bench:train:start -->',
    'old table',
    '<!-- bench:train:end -->',
    'prose',
    '<!-- bench:other:start -->',
    'kept',
    '<!-- bench:other:end -->',
  ].join('\n');
  const out = fillMarkers(doc, { train: '| new |', missing: 'x' });
  assert.equal(
    out,
    [
      'intro',
      '<!-- bench:train:start -->',
      '',
      '| new |',
      '',
      '<!-- bench:train:end -->',
      'prose',
      '<!-- bench:other:start -->',
      'kept',
      '<!-- bench:other:end -->',
    ].join('\n'),
  );
  assert.equal(fillMarkers(out, { train: '| new |' }), out);
  assert.throws(() => fillMarkers('<!-- bench:train:start -->', { train: 'x' }), /has no/);
});
