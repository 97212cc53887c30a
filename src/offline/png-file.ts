import { writeFile } from 'node:fs/promises';
import pngjs from 'pngjs';
import type { GreyImage } from '../model/prototype-grid.js';

/** Writes a grey-scale image as an 8-bit RGBA PNG (pngjs encodes RGBA input). */
export async function writeGreyPng(path: string, image: GreyImage): Promise<void> {
  const png = new pngjs.PNG({ width: image.width, height: image.height });
  for (let i = 0; i < image.data.length; i++) {
    const grey = image.data[i] as number;
    png.data[i * 4] = grey;
    png.data[i * 4 + 1] = grey;
    png.data[i * 4 + 2] = grey;
    png.data[i * 4 + 3] = 255;
  }
  await writeFile(path, pngjs.PNG.sync.write(png));
}
