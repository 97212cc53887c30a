import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

import { UsageError } from '../errors.js';

export type InputFormat = 'jsonl' | 'csv';

/** One input record and the 1-based line it came from (for error messages). */
export interface InputRecord {
  readonly record: Record<string, unknown>;
  readonly line: number;
}

/**
 * Streams records from a JSONL file (one JSON object per line) or a CSV file with a header row.
 * `-` reads standard input. The format comes from the extension (.csv, .jsonl, .ndjson, .json) or,
 * failing that, from the first non-empty line (`{` means JSONL).
 */
export async function* readRecords(
  path: string,
  options: { format?: InputFormat; stdin?: Readable } = {},
): AsyncGenerator<InputRecord> {
  const source = await openInput(path, options.stdin);
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  const name = path === '-' ? 'stdin' : path;
  let format = options.format ?? formatFromExtension(path);
  let csv: CsvParser | undefined;
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber++;
      const text = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      format ??= text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
      if (format === 'jsonl') {
        yield { record: parseJsonLine(text, name, lineNumber), line: lineNumber };
      } else if (csv === undefined) {
        csv = new CsvParser(
          splitCsvLine(text, name, lineNumber).map((column) => column.trim()),
          name,
          lineNumber,
        );
      } else {
        yield { record: csv.parse(text, lineNumber), line: lineNumber };
      }
    }
  } catch (error) {
    throw toUsageError(error, path);
  } finally {
    lines.close();
    if (source !== options.stdin && source !== process.stdin) source.destroy();
  }
}

/** Reads every record of a file into memory. */
export async function readAllRecords(
  path: string,
  options: { format?: InputFormat; stdin?: Readable } = {},
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const { record } of readRecords(path, options)) out.push(record);
  return out;
}

async function openInput(path: string, stdin: Readable | undefined): Promise<Readable> {
  if (path === '-') return stdin ?? process.stdin;
  let handle;
  try {
    handle = await open(path, 'r');
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UsageError(`input "${path}" is not a file`);
  } catch (error) {
    await handle?.close();
    throw toUsageError(error, path);
  }
  return handle.createReadStream();
}

function formatFromExtension(path: string): InputFormat | undefined {
  switch (extname(path).toLowerCase()) {
    case '.csv':
      return 'csv';
    case '.jsonl':
    case '.ndjson':
    case '.json':
      return 'jsonl';
    default:
      return undefined;
  }
}

function toUsageError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return new UsageError(`cannot read input "${path}": no such file`);
    case 'EACCES':
      return new UsageError(`cannot read input "${path}": permission denied`);
    case 'EISDIR':
      return new UsageError(`input "${path}" is not a file`);
    default:
      return error;
  }
}

function parseJsonLine(text: string, name: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name}:${line}: invalid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${name}:${line}: expected a JSON object on each line`);
  }
  return value as Record<string, unknown>;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$|^NaN$/;

/** A CSV cell: numbers become numbers, empty cells are left out, everything else stays text. */
function parseCell(cell: string): string | number | undefined {
  const trimmed = cell.trim();
  if (trimmed === '') return undefined;
  return NUMBER.test(trimmed) ? Number(trimmed) : cell;
}

/** Turns CSV rows into records; a dotted column name such as `point.x` becomes a nested field. */
class CsvParser {
  private readonly paths: readonly (readonly string[])[];

  constructor(
    private readonly columns: readonly string[],
    private readonly name: string,
    line: number,
  ) {
    const seen = new Set<string>();
    for (const column of columns) {
      if (column === '') throw new UsageError(`${name}:${line}: empty column name`);
      if (seen.has(column)) throw new UsageError(`${name}:${line}: duplicate column "${column}"`);
      seen.add(column);
    }
    for (const column of columns) {
      const parts = column.split('.');
      for (let i = 1; i < parts.length; i++) {
        const prefix = parts.slice(0, i).join('.');
        if (seen.has(prefix)) {
          throw new UsageError(`${name}:${line}: column "${prefix}" clashes with "${column}"`);
        }
      }
    }
    this.paths = columns.map((column) => column.split('.'));
  }

  parse(text: string, line: number): Record<string, unknown> {
    const cells = splitCsvLine(text, this.name, line);
    if (cells.length !== this.columns.length) {
      throw new UsageError(
        `${this.name}:${line}: expected ${this.columns.length} columns, found ${cells.length}`,
      );
    }
    const record: Record<string, unknown> = {};
    cells.forEach((cell, i) => {
      const value = parseCell(cell);
      if (value === undefined) return;
      const path = this.paths[i] as readonly string[];
      let target = record;
      for (let p = 0; p < path.length - 1; p++) {
        const key = path[p] as string;
        if (!Object.hasOwn(target, key)) setOwn(target, key, {});
        target = target[key] as Record<string, unknown>;
      }
      setOwn(target, path[path.length - 1] as string, value);
    });
    return record;
  }
}

/**
 * Sets an own property, as JSON.parse does. Plain assignment would follow a column named
 * `__proto__.x` or `constructor.prototype.x` into Object.prototype and change every object.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote; no line breaks inside cells). */
export function splitCsvLine(text: string, name = 'input', line = 1): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        cell += ch;
      }
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else {
      cell += ch;
    }
    i++;
  }
  if (quoted) throw new UsageError(`${name}:${line}: unterminated quoted cell`);
  cells.push(cell);
  return cells;
}
