// librdkafka, the C client most non-Java Kafka producers and consumers are built on, as a second
// independent peer for the integration tests: PyPI's confluent-kafka wheel bundles it with every
// codec. Installed once into a virtual environment in ~/.cache/dec-stream/ (like the broker's jars).
//
// resolveRdkafkaPython()  creates ~/.cache/dec-stream/confluent-kafka-<version>/ with python3's venv
//                         and pip, once (a marker file records success), and returns its python.

import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The confluent-kafka release (and so the librdkafka inside it) the tests run against. */
export const CONFLUENT_KAFKA_VERSION = process.env.CONFLUENT_KAFKA_VERSION ?? '2.16.1';

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
 * The python of a virtual environment holding confluent-kafka, created on first use. Safe when
 * several processes resolve at once: each builds its own staging environment and the first rename
 * wins.
 * @returns {string} path of the environment's python
 */
export function resolveRdkafkaPython(version = CONFLUENT_KAFKA_VERSION, log = console.log) {
  const home = join(cacheRoot, `confluent-kafka-${version}`);
  const python = join(home, 'bin', 'python');
  const marker = join(home, '.resolved');
  if (existsSync(marker)) return python;

  log(`Installing confluent-kafka ${version} (librdkafka) into ${home} (first run only)...`);
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
    `confluent-kafka==${version}`,
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
