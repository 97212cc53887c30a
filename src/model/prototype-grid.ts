/**
 * A picture of what each cluster means when records are images: one row per cluster, its
 * prototype (the decoded centroid) first, then its most confident kept members. Pure: builds a
 * grey-scale raster; the caller encodes it (offline/png-file.ts).
 */
import { prototypeRows } from './cluster-profile.js';
import type { ModelSnapshot } from './types.js';

/** Row-major 8-bit grey levels. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Where the image lies in a feature row, and its size. */
export interface ImageField {
  readonly field: string;
  /** Column of the field's first pixel in the flat feature row. */
  readonly offset: number;
  readonly width: number;
  readonly height: number;
}

export interface PrototypeGridOptions {
  /** Members shown beside each prototype (default 5). */
  readonly members?: number;
  /** Each pixel becomes scale × scale pixels (default: up to 64-pixel tiles, at least 1). */
  readonly scale?: number;
}

/** Grey of the gaps between tiles and of empty slots, so neither dark nor light images blend in. */
const GapGrey = 128;
const Gap = 2;
/** The wider gap between a prototype and its members. */
const PrototypeGap = 8;

/**
 * The first vector field that is an image: one of the training's augmentation size
 * (DEC_AUGMENT_IMAGE), else a square one (784 = 28 × 28).
 */
export function imageFieldOf(snapshot: ModelSnapshot): ImageField | undefined {
  const { fields, widths } = snapshot.featureSpec;
  const augment = snapshot.options.imageAugmentation;
  let offset = 0;
  for (let f = 0; f < fields.length; f++) {
    const width = widths[f] ?? 1;
    const side = Math.round(Math.sqrt(width));
    const field = fields[f] as string;
    if (augment !== undefined && width > 1 && augment.width * augment.height === width) {
      return { field, offset, width: augment.width, height: augment.height };
    }
    if (width > 1 && side * side === width) return { field, offset, width: side, height: side };
    offset += width;
  }
  return undefined;
}

/** A tile as the offset of its pixels in one of two arrays; null for an empty slot. */
type Tile = { source: Float32Array; at: number } | null;

/**
 * Maps a value to a grey level, one scale for every tile. The real members' range sets it (a
 * decoded prototype overshoots a little, which would grey the background of every tile);
 * prototypes alone when no member was kept.
 */
function greyScale(rows: readonly Tile[][], pixels: number): (v: number) => number {
  const scaleTiles = rows.flatMap((tiles) => tiles.slice(1)).filter((tile) => tile !== null);
  let low = Infinity;
  let high = -Infinity;
  for (const tile of scaleTiles.length > 0 ? scaleTiles : rows.map((tiles) => tiles[0])) {
    if (tile === null || tile === undefined) continue;
    for (let p = 0; p < pixels; p++) {
      const v = tile.source[tile.at + p] as number;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  const range = high > low ? high - low : 1;
  return (v) => Math.round(255 * Math.min(1, Math.max(0, (v - low) / range)));
}

/**
 * The grid for `snapshot`'s image field, or undefined when it has none (or no prototypes). Every
 * tile shares one grey scale, from the lowest to the highest value of the members shown, so tiles
 * compare.
 */
export function prototypeGrid(
  snapshot: ModelSnapshot,
  options: PrototypeGridOptions = {},
): GreyImage | undefined {
  const image = imageFieldOf(snapshot);
  const prototypes = prototypeRows(snapshot);
  if (image === undefined || prototypes === undefined) return undefined;
  const k = snapshot.parameters.clusters;
  const dims = snapshot.standardisation.mean.length;
  const perRow = Math.max(0, options.members ?? 5);
  const scale = options.scale ?? Math.max(1, Math.floor(64 / Math.max(image.width, image.height)));
  const pixels = image.width * image.height;

  const rows: Tile[][] = [];
  const stats = snapshot.clusterStatistics;
  for (let c = 0; c < k; c++) {
    const tiles: Tile[] = [{ source: prototypes, at: c * dims + image.offset }];
    const members =
      stats?.members
        .map((m, index) => ({ m, index }))
        .filter(({ m }) => m.cluster === c)
        .sort((a, b) => b.m.confidence - a.m.confidence)
        .slice(0, perRow) ?? [];
    for (let s = 0; s < perRow; s++) {
      const member = members[s];
      tiles.push(
        member === undefined || stats === undefined
          ? null
          : { source: stats.memberFeatures, at: member.index * dims + image.offset },
      );
    }
    rows.push(tiles);
  }

  const grey = greyScale(rows, pixels);
  const tileW = image.width * scale;
  const tileH = image.height * scale;
  const width = Gap + tileW + PrototypeGap + perRow * (tileW + Gap);
  const height = Gap + k * (tileH + Gap);
  const data = new Uint8Array(width * height).fill(GapGrey);
  rows.forEach((tiles, r) => {
    const top = Gap + r * (tileH + Gap);
    tiles.forEach((tile, i) => {
      if (tile === null) return;
      const left = i === 0 ? Gap : Gap + tileW + PrototypeGap + (i - 1) * (tileW + Gap);
      for (let y = 0; y < tileH; y++) {
        const sourceRow = Math.floor(y / scale) * image.width;
        for (let x = 0; x < tileW; x++) {
          const v = tile.source[tile.at + sourceRow + Math.floor(x / scale)] as number;
          data[(top + y) * width + left + x] = grey(v);
        }
      }
    });
  });
  return { width, height, data };
}
