/**
 * Checks the import boundaries between the layers (.dependency-cruiser.cjs) and fails on any
 * violation; part of `npm run lint`. Runs dependency-cruiser through its API: its command line
 * refuses Node 20, the project's runtime, and the API runs on it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { IConfiguration, ICruiseResult } from 'dependency-cruiser';
import { cruise, format } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The rules and options of .dependency-cruiser.cjs. */
export function boundaryConfig(): IConfiguration {
  const require = createRequire(import.meta.url);
  return require('../.dependency-cruiser.cjs') as IConfiguration;
}

export interface BoundaryViolation {
  readonly rule: string;
  /** The importing module, relative to the base directory. */
  readonly from: string;
  /** The imported module (for a cycle, the first module of the cycle after `from`). */
  readonly to: string;
}

export interface BoundaryCheck {
  /** Every violation, one per rule and import; empty when every import points the right way. */
  readonly violations: readonly BoundaryViolation[];
  /** The violations as text. */
  readonly report: string;
}

/** Cruises `roots` (relative to `baseDir`, which holds a tsconfig.json) against the rules. */
export async function checkBoundaries(
  roots: readonly string[] = ['src'],
  baseDir: string = repoRoot,
  config: IConfiguration = boundaryConfig(),
): Promise<BoundaryCheck> {
  const cruised = await cruise(
    [...roots],
    { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden ?? [] } },
    {},
    { tsConfig: extractTSConfig(join(baseDir, 'tsconfig.json')) },
  );
  const result = cruised.output as ICruiseResult;
  const report = (await format(result, { outputType: 'err' })).output as string;
  const violations = result.summary.violations.map((v) => ({
    rule: v.rule.name,
    from: v.from,
    to: v.to,
  }));
  return { violations, report };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = await checkBoundaries();
  process.stdout.write(check.report);
  process.exitCode = check.violations.length === 0 ? 0 : 1;
}
