/** Types of what TypeScript callers use from env.mjs, which stays plain JavaScript. */
/** Installs pinned PyPI packages into a cached virtual environment named `name` once; its python. */
export function resolvePythonEnv(
  name: string,
  packages: readonly string[],
  log?: (line: string) => void,
): string;
