import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  augmentationProblems,
  augmentImages,
  digitAugmentation,
  moveImage,
} from '../../../src/model/augment.js';
import { SeededRandom } from '../../../src/model/rng.js';

/** A 5 × 5 image, background `fill`, with one bright pixel at (x, y). */
function dot(x: number, y: number, fill = 0): Float32Array {
  const image = new Float32Array(25).fill(fill);
  image[y * 5 + x] = 1;
  return image;
}

const brightest = (image: Float32Array): [number, number] => {
  let best = 0;
  for (let i = 1; i < image.length; i++) if (image[i]! > image[best]!) best = i;
  return [best % 5, Math.floor(best / 5)];
};

describe('image augmentation', () => {
  it('leaves an image unchanged when the move is zero', () => {
    const source = Float32Array.from({ length: 25 }, (_, i) => i / 25);
    const out = new Float32Array(25);
    moveImage(source, out, 0, 5, 5, { angle: 0, shiftX: 0, shiftY: 0 });
    assert.deepEqual(Array.from(out), Array.from(source));
  });

  it('shifts by whole pixels right and down', () => {
    const out = new Float32Array(25);
    moveImage(dot(1, 1), out, 0, 5, 5, { angle: 0, shiftX: 2, shiftY: 1 });
    assert.deepEqual(brightest(out), [3, 2]);
    assert.equal(out[2 * 5 + 3], 1);
  });

  it('turns a quarter turn counter-clockwise about the centre', () => {
    const out = new Float32Array(25);
    // Right of the centre (2, 2) moves to above it.
    moveImage(dot(4, 2), out, 0, 5, 5, { angle: Math.PI / 2, shiftX: 0, shiftY: 0 });
    assert.deepEqual(brightest(out), [2, 0]);
    assert.ok(Math.abs(out[2]! - 1) < 1e-6);
  });

  it('fills uncovered pixels with the nearest edge, so the background keeps its value', () => {
    const out = new Float32Array(25);
    moveImage(dot(2, 2, -0.4), out, 0, 5, 5, { angle: 0.3, shiftX: 1.5, shiftY: -1.2 });
    assert.equal(out[0], Math.fround(-0.4));
    assert.equal(out[24], Math.fround(-0.4));
  });

  it('draws the same moves from the same seed and different ones from another', () => {
    const source = Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 97) / 97);
    const spec = digitAugmentation();
    const a = augmentImages(source, 3, spec, new SeededRandom(4));
    const b = augmentImages(source, 3, spec, new SeededRandom(4));
    const c = augmentImages(source, 3, spec, new SeededRandom(5));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // Bilinear resampling never leaves the source's value range.
    assert.ok(a.every((v) => v >= 0 && v <= 96 / 97 + 1e-6));
  });

  it('names every problem of a spec that does not fit the records', () => {
    const problems = augmentationProblems(
      { width: 28, height: 28, maxShift: -1, maxRotationDegrees: 200 },
      100,
    );
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /784 pixels but records have 100 features/);
    assert.deepEqual(augmentationProblems(digitAugmentation(), 784), []);
  });
});
