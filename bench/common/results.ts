import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFacts, type MachineFacts } from './machine.js';

/** `bench/results/<name>.json`, where each benchmark keeps its committed result. */
export function resultFile(name: string): string {
  return fileURLToPath(new URL(`../results/${name}.json`, import.meta.url));
}

/** When and where a run was measured; every result file starts with these. */
export function runFacts(): { date: string; machine: MachineFacts } {
  return { date: new Date().toISOString(), machine: machineFacts() };
}

/** Writes `result` as JSON (folders made as needed) and returns the path. */
export function writeResult(file: string, result: object, indent = 2): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, indent)}\n`);
  return file;
}

/** The result in `file`, or an empty object when there is none yet or it cannot be read. */
export function readResult(file: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Replaces the top-level keys of `part` in the result in `file` and keeps the others, so that
 * benchmarks run in parts (separate processes, or the soak after the throughput run) add up to
 * one file. Re-reads the file each time: another part may have written it meanwhile.
 */
export function mergeResult(file: string, part: object): string {
  return writeResult(file, { ...readResult(file), ...part });
}
