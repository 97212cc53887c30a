import { renderBlocks, type Results } from '../../scripts/gen-benchmarks-doc.js';

/**
 * Prints the table that docs/benchmarks.md shows between its `bench:<block>` markers, rendered from
 * `results` (result files by benchmark name), so that a run reads exactly like the page it would
 * update.
 */
export function printDocTable(block: string, results: Results): void {
  console.log(`\n${renderBlocks(results)[block] ?? `no block ${block}`}\n`);
}
