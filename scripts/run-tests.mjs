// npm test [-- PATH...] — runs the unit and integration tests with node:test.
//
// PATHs (files or folders) narrow the run; by default it covers test/unit and test/integration.
// Integration tests talk to the broker named by KAFKA_BROKERS. When that is unset and an
// integration test is selected, the local broker is started on KAFKA_PORT (default 9092) for the
// run and always stopped afterwards, also on Ctrl-C.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerPort, startBroker, stopBroker } from './kafka/broker.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const integrationDir = join(root, 'test', 'integration');
const concurrency = process.env.TEST_CONCURRENCY ?? '2';

/** Every *.test.ts file under `path` (or `path` itself), sorted. */
function testFiles(path) {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return path.endsWith('.ts') ? [path] : [];
  const found = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(child));
    else if (entry.name.endsWith('.test.ts')) found.push(child);
  }
  return found.sort();
}

const requested = process.argv.slice(2);
const roots = requested.length > 0 ? requested.map((p) => resolve(p)) : [join(root, 'test')];
const missing = roots.filter((p) => !existsSync(p));
if (missing.length > 0) {
  console.error(`No such test path: ${missing.map((p) => relative(root, p)).join(', ')}`);
  process.exit(1);
}
const files = [...new Set(roots.flatMap(testFiles))];
if (files.length === 0) {
  console.error(`No *.test.ts files under ${roots.map((p) => relative(root, p)).join(', ')}`);
  process.exit(requested.length > 0 ? 1 : 0);
}

const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
const needsBroker = files.some((f) => f.startsWith(integrationDir + sep));
let ownedPort;

async function stopOwnedBroker() {
  if (ownedPort === undefined) return;
  const port = ownedPort;
  ownedPort = undefined;
  await stopBroker({ port });
}

let child;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // Before the tests start, the start-up path below sees the flag and cleans up.
    interrupted = true;
    if (child) child.kill(signal);
  });
}

if (needsBroker && !env.KAFKA_BROKERS) {
  const port = brokerPort();
  try {
    const broker = await startBroker({ port });
    if (broker.alreadyRunning) {
      console.log(`Using the Kafka broker already running at ${broker.bootstrap}.`);
    } else {
      ownedPort = port;
      console.log(
        `Kafka broker ready at ${broker.bootstrap} in ${(broker.startupMs / 1000).toFixed(1)} s.`,
      );
    }
    env.KAFKA_BROKERS = broker.bootstrap;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
} else if (needsBroker) {
  console.log(`Using KAFKA_BROKERS=${env.KAFKA_BROKERS}.`);
}
if (interrupted) {
  await stopOwnedBroker();
  process.exit(130);
}

const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec',
  ...files.map((f) => relative(root, f)),
];
child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
const code = await new Promise((done) => {
  child.once('exit', (status, signal) => done(status ?? (signal ? 1 : 0)));
});
await stopOwnedBroker();
process.exit(interrupted ? 130 : code);
