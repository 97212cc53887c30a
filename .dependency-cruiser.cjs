// @ts-check
/**
 * The layers of docs/architecture.md, checked on every `npm run lint`. Dependencies point down:
 *
 *   entry points   src/*.ts (cli.ts, run-worker.ts, label-thread.ts, shutdown-signals.ts)
 *   adapters       kafka/ metrics/ server/ store/ registry/ config/ offline/
 *   lifecycle      worker/
 *   core           online/ → model/, codec/
 *   plain types    errors.ts, feature-list.ts
 *
 * runtime/ (logger, threads, heap trimmer) may be imported from every layer and itself imports
 * nothing but plain types. Type-only imports count like any other.
 */

/** Top-level modules every layer may import: they import nothing but each other. */
const plainTypes = '^src/(errors|feature-list)[.]ts$';
const entryPoints = { path: '^src/[^/]+[.]ts$', pathNot: plainTypes };
const adapters = '^src/(kafka|metrics|server|store|registry|config|offline)/';
const core = '^src/(online|model|codec)/';
/** Libraries and Node modules that do I/O of the kinds the pure layers must not. */
const ioPackages = '(^|/)node_modules/(kafkajs|prom-client|@platformatic/kafka)/';
const ioNodeModules = '^(node:)?(fs|fs/promises|http|https|http2|net)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A cycle makes two modules one; split out what both need. Cycles through a type-only ' +
        'import (model/types.ts and model/model-guard.ts) vanish at compile time and are let be.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'nothing-imports-entry-points',
      comment: 'Entry points wire the layers together; nothing below may import them.',
      severity: 'error',
      from: { path: '^src/', pathNot: entryPoints.path },
      to: entryPoints,
    },
    {
      name: 'plain-types-import-only-plain-types',
      severity: 'error',
      from: { path: plainTypes },
      to: { path: '^src/', pathNot: plainTypes },
    },
    {
      name: 'runtime-imports-nothing-above-it',
      comment: 'runtime/ is usable from every layer, so it imports only itself and plain types.',
      severity: 'error',
      from: { path: '^src/runtime/' },
      to: { path: '^src/', pathNot: `^src/runtime/|${plainTypes}` },
    },
    {
      name: 'config-imports-only-plain-types',
      comment: 'Loading the settings pulls in nothing else: config/ depends only on plain types.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: `^src/config/|${plainTypes}` },
    },
    {
      name: 'worker-sees-adapters-only-as-interfaces',
      comment:
        'worker/ is written against interfaces (worker/ports.ts, store/model-store.ts, ' +
        'codec/schema-registry.ts); run-worker.ts hands in the adapters.',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: { path: adapters, pathNot: '^src/store/model-store[.]ts$' },
    },
    {
      name: 'core-imports-no-layer-above-it',
      severity: 'error',
      from: { path: core },
      to: { path: `${adapters}|^src/worker/` },
    },
    {
      name: 'model-does-not-import-online',
      comment: 'online/ builds on model/, not the other way round.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/online/' },
    },
    {
      name: 'pure-code-does-no-io',
      comment:
        'model/, online/, codec/ and runtime/ never talk to Kafka, Prometheus, HTTP or the ' +
        'filesystem; they receive an interface instead.',
      severity: 'error',
      from: { path: `${core}|^src/runtime/` },
      to: { path: `${ioPackages}|${ioNodeModules}` },
    },
    {
      name: 'worker-does-no-network-io',
      comment:
        'worker/ owns timers and threads but no sockets: Kafka, Prometheus and HTTP are ports.',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: { path: `${ioPackages}|^(node:)?(http|https|http2|net)$` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a type from a layer above is still an upward import.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
