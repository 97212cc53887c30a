// Python reference tools (PyPI wheels) for tests and benchmarks: each set of pinned packages gets
// its own virtual environment in ~/.cache/dec-stream/ (like the broker's jars), made once.
//
// resolvePythonEnv(name, packages)  creates ~/.cache/dec-stream/<name>/ with python3's venv and
//                                   pip, once (a marker file records success), and returns its
//                                   python.

import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const cacheRoot = process.env.DEC_STREAM_CACHE ?? join(homedir(), '.cache', 'dec-stream');

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`,
    );
  }
}

/**
 * The python of a virtual environment named `name` holding `packages` (pip requirement strings,
 * pinned: the name should carry the versions), created on first use. Safe when several processes
 * resolve at once: each builds its own staging environment and the first rename wins.
 * @param {string} name
 * @param {readonly string[]} packages
 * @param {(line: string) => void} [log]
 * @returns {string} path of the environment's python
 */
export function resolvePythonEnv(name, packages, log = console.log) {
  const home = join(cacheRoot, name);
  const python = join(home, 'bin', 'python');
  const marker = join(home, '.resolved');
  if (existsSync(marker)) return python;

  log(`Installing ${packages.join(', ')} into ${home} (first run only)...`);
  const staging = `${home}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  run('python3', ['-m', 'venv', staging]);
  run(join(staging, 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--only-binary=:all:',
    ...packages,
  ]);
  // Only the environment's python runs (never its scripts, whose first lines name the staging
  // path), so the finished environment can be renamed into place, marker and all: a directory
  // in place is always complete.
  writeFileSync(join(staging, '.resolved'), `${new Date().toISOString()}\n`);
  try {
    renameSync(staging, home);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(marker)) throw error;
  }
  return python;
}
