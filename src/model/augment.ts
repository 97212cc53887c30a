/**
 * Training-time augmentation for records that are images (a flattened height × width grid, one
 * channel). Each row of a mini-batch gets its own small random rotation and shift, as DEC-DA does
 * (Guo et al. 2018: the autoencoder and the clustering layer see slightly moved digits, the target p
 * is still computed on the originals). On a fully connected autoencoder this teaches the embedding
 * that a digit moved by a pixel is the same digit, which a 10,000-image training set cannot show it
 * otherwise.
 *
 * Pixels are resampled bilinearly; coordinates that fall outside the image take the nearest edge
 * pixel, so the background keeps its value under any affine scaling of the inputs.
 */
import type { SeededRandom } from './rng.js';

export interface ImageAugmentation {
  readonly width: number;
  readonly height: number;
  /** Largest shift along each axis, in pixels (uniform in [-maxShift, maxShift]). */
  readonly maxShift: number;
  /** Largest rotation, in degrees (uniform in [-maxRotationDegrees, maxRotationDegrees]). */
  readonly maxRotationDegrees: number;
}

/** DEC-DA's setting (for 28 × 28 digits): shifts up to 10 % of the side, rotations up to 10°. */
export function digitAugmentation(width = 28, height = 28): ImageAugmentation {
  return {
    width,
    height,
    maxShift: Math.round(0.1 * Math.max(width, height)),
    maxRotationDegrees: 10,
  };
}

/** Parses an image size such as `28x28` (width × height); undefined when the text is not one. */
export function parseImageSize(text: string): { width: number; height: number } | undefined {
  const match = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(text);
  if (match === null) return undefined;
  const width = Number(match[1]);
  const height = Number(match[2]);
  return width >= 2 && height >= 2 ? { width, height } : undefined;
}

/** Problems with an augmentation spec for inputs `cols` wide; empty when it is valid. */
export function augmentationProblems(spec: ImageAugmentation, cols: number): string[] {
  const problems: string[] = [];
  if (
    !Number.isInteger(spec.width) ||
    spec.width < 2 ||
    !Number.isInteger(spec.height) ||
    spec.height < 2
  ) {
    problems.push(`image size must be whole numbers >= 2, got ${spec.width}x${spec.height}`);
  } else if (spec.width * spec.height !== cols) {
    problems.push(
      `image ${spec.width}x${spec.height} has ${spec.width * spec.height} pixels but records have ${cols} features`,
    );
  }
  if (!(spec.maxShift >= 0) || !Number.isFinite(spec.maxShift))
    problems.push(`maxShift must be a number >= 0, got ${spec.maxShift}`);
  if (!(spec.maxRotationDegrees >= 0) || spec.maxRotationDegrees > 180)
    problems.push(`maxRotationDegrees must be in [0, 180], got ${spec.maxRotationDegrees}`);
  return problems;
}

/**
 * Writes a randomly rotated and shifted copy of each row of `source` (rows × width·height) into a
 * new array; each row draws its own angle and shift from `rng`.
 */
export function augmentImages(
  source: Float32Array,
  rows: number,
  spec: ImageAugmentation,
  rng: SeededRandom,
): Float32Array {
  const pixels = spec.width * spec.height;
  const out = new Float32Array(rows * pixels);
  const maxAngle = (spec.maxRotationDegrees * Math.PI) / 180;
  for (let r = 0; r < rows; r++) {
    const move: ImageMove = {
      angle: (2 * rng.next() - 1) * maxAngle,
      shiftX: (2 * rng.next() - 1) * spec.maxShift,
      shiftY: (2 * rng.next() - 1) * spec.maxShift,
    };
    moveImage(source, out, r * pixels, spec.width, spec.height, move);
  }
  return out;
}

/** A rotation about the image centre (radians, counter-clockwise on screen) then a shift (pixels). */
export interface ImageMove {
  readonly angle: number;
  readonly shiftX: number;
  readonly shiftY: number;
}

/**
 * Resamples the image at `offset` in `source` into the same place in `out`. Output pixel o reads
 * source point R(-θ)·(o - c - t) + c, with c the image centre and t the shift, bilinearly.
 */
export function moveImage(
  source: Float32Array,
  out: Float32Array,
  offset: number,
  width: number,
  height: number,
  move: ImageMove,
): void {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(move.angle);
  const sin = Math.sin(move.angle);
  for (let oy = 0; oy < height; oy++) {
    const dy = oy - cy - move.shiftY;
    for (let ox = 0; ox < width; ox++) {
      const dx = ox - cx - move.shiftX;
      // y grows downwards, so a counter-clockwise turn on screen is the inverse of the usual one.
      const sx = Math.min(width - 1, Math.max(0, cos * dx - sin * dy + cx));
      const sy = Math.min(height - 1, Math.max(0, sin * dx + cos * dy + cy));
      const x0 = Math.min(width - 2, Math.floor(sx));
      const y0 = Math.min(height - 2, Math.floor(sy));
      const fx = sx - x0;
      const fy = sy - y0;
      const i00 = offset + y0 * width + x0;
      const top = source[i00]! * (1 - fx) + source[i00 + 1]! * fx;
      const bottom = source[i00 + width]! * (1 - fx) + source[i00 + width + 1]! * fx;
      out[offset + oy * width + ox] = top * (1 - fy) + bottom * fy;
    }
  }
}
