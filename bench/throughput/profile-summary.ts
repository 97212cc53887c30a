/**
 * Summarises V8 CPU profiles written by `BENCH_CPU_PROFILE_DIR=dir npm run bench:throughput`:
 * self time by category (JSON decode, feature extraction, tensors, serialisation, kafkajs
 * protocol, ...) and the top functions, counted from the first sample that handles a record.
 *
 *   node --import tsx bench/throughput/profile-summary.ts dir/*.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Ordered: the first rule whose test matches the leaf frame (or one of its callers) wins. */
const categories: readonly { name: string; test: (f: CallFrame) => boolean }[] = [
  { name: 'idle', test: (f) => f.functionName === '(idle)' },
  { name: 'gc', test: (f) => f.functionName === '(garbage collector)' },
  {
    name: 'json decode',
    test: (f) => f.url.includes('json-codec') && /decode/.test(f.functionName),
  },
  { name: 'json feature scan', test: (f) => f.url.includes('json-feature-scanner') },
  { name: 'json encode (labelled)', test: (f) => f.url.includes('json-codec') },
  { name: 'feature extraction', test: (f) => f.url.includes('model/features') },
  {
    name: 'standardise',
    test: (f) =>
      f.url.includes('model/standardise') ||
      (f.url.includes('model/model-version') && f.functionName === 'standardiseRow'),
  },
  {
    name: 'tensors (tfjs + wasm)',
    test: (f) =>
      f.url.includes('@tensorflow') ||
      f.url.startsWith('wasm://') ||
      f.url.includes('model/model-version') ||
      f.url.includes('soft-assignment') ||
      f.url.includes('dense-network'),
  },
  {
    name: 'metrics (prom-client)',
    test: (f) => f.url.includes('prom-client') || f.url.includes('src/metrics'),
  },
  {
    name: 'kafkajs compression/crc',
    test: (f) =>
      /kafkajs\/src\/protocol\/(recordBatch\/crc32C|crc32|message\/compression)/.test(f.url),
  },
  {
    name: 'kafkajs protocol encode',
    test: (f) => /kafkajs\/src\/protocol\/.*(encoder|requests)/.test(f.url),
  },
  {
    name: 'kafkajs protocol decode',
    test: (f) => /kafkajs\/src\/protocol\/.*(decoder|responses|recordBatch)/.test(f.url),
  },
  { name: 'kafkajs other', test: (f) => f.url.includes('kafkajs') },
  { name: '@platformatic/kafka', test: (f) => f.url.includes('@platformatic') },
  {
    name: 'worker (labelling glue)',
    test: (f) => f.url.includes('src/worker') || f.url.includes('src/kafka'),
  },
  { name: 'benchmark harness', test: (f) => f.url.includes('bench/') },
  { name: 'node internals', test: (f) => f.url.startsWith('node:') || f.url === '' },
];

/** The worker's threads, by the module each one runs. */
const threadEntries: readonly { role: string; module: string }[] = [
  { role: 'labelling thread', module: 'labeller/label-thread' },
  { role: 'publishing thread', module: 'publish/publish-thread' },
  { role: 'refinement thread', module: 'refiner/refine-thread' },
];

function categorise(stack: readonly CallFrame[]): string {
  // Attribute to the innermost frame that belongs to a named category (native leaves such as
  // JSON.parse or Buffer.from then count for the code that called them).
  for (const frame of stack) {
    for (const c of categories) {
      if (c.name === 'node internals') continue;
      if (c.test(frame)) return c.name;
    }
  }
  return stack[0]?.url.startsWith('node:') || stack[0]?.url === '' ? 'node internals' : 'other';
}

export interface ProfileSummary {
  readonly file: string;
  /** `main`, or the worker thread whose entry module the samples run in. */
  readonly thread: string;
  readonly windowMs: number;
  readonly busyMs: number;
  readonly categories: Record<string, number>;
  readonly topFunctions: readonly { name: string; ms: number }[];
}

export function summarise(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stackOf = (id: number): CallFrame[] => {
    const frames: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node !== undefined) frames.push(node.callFrame);
    }
    return frames;
  };
  const stacks = new Map<number, CallFrame[]>();
  const handles = (stack: readonly CallFrame[]): boolean =>
    stack.some(
      (f) =>
        (f.url.includes('stream-worker') && /^handle/.test(f.functionName)) ||
        (threadEntries.some((e) => f.url.includes(e.module)) && f.functionName === 'handle') ||
        (f.url.includes('bench/throughput/pass-through') && f.functionName !== ''),
    );
  let role: string | undefined;
  const categoriesMs: Record<string, number> = {};
  const functions = new Map<string, number>();
  let started = false;
  let windowMs = 0;
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    let stack = stacks.get(id);
    if (stack === undefined) {
      stack = stackOf(id);
      stacks.set(id, stack);
    }
    role ??= threadEntries.find((e) => stack.some((f) => f.url.includes(e.module)))?.role;
    if (!started) started = handles(stack);
    if (!started) return;
    windowMs += ms;
    const category = categorise(stack);
    categoriesMs[category] = (categoriesMs[category] ?? 0) + ms;
    if (category === 'idle') return;
    busyMs += ms;
    const leaf = stack[0];
    if (leaf === undefined) return;
    const name = `${leaf.functionName || '(anonymous)'} ${basename(leaf.url)}:${leaf.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  });
  const topFunctions = [...functions.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([name, ms]) => ({ name, ms: Math.round(ms) }));
  for (const key of Object.keys(categoriesMs)) {
    categoriesMs[key] = Math.round(categoriesMs[key] as number);
  }
  return {
    file: basename(file),
    thread: role ?? 'main',
    windowMs: Math.round(windowMs),
    busyMs: Math.round(busyMs),
    categories: categoriesMs,
    topFunctions,
  };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  for (const file of process.argv.slice(2)) {
    const s = summarise(file);
    process.stdout.write(`\n${s.file}: ${s.busyMs} ms busy of ${s.windowMs} ms\n`);
    const sorted = Object.entries(s.categories).sort((a, b) => b[1] - a[1]);
    for (const [name, ms] of sorted) {
      if (name === 'idle') continue;
      const share = s.busyMs > 0 ? ((100 * ms) / s.busyMs).toFixed(1) : '0';
      process.stdout.write(
        `  ${name.padEnd(28)} ${String(ms).padStart(7)} ms  ${share.padStart(5)}%\n`,
      );
    }
    process.stdout.write('  top functions (self):\n');
    for (const f of s.topFunctions)
      process.stdout.write(`    ${String(f.ms).padStart(6)} ms  ${f.name}\n`);
  }
}
