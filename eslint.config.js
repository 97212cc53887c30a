// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Folders that hold pure code: no Kafka, no HTTP, no Prometheus, no filesystem. */
const pureBoundary = {
  paths: [
    { name: 'kafkajs', message: 'Pure code never talks to Kafka; receive an interface instead.' },
    { name: 'prom-client', message: 'Only src/metrics imports prom-client.' },
    { name: 'node:http', message: 'Only src/server serves HTTP.' },
    { name: 'node:fs', message: 'Pure code never touches the filesystem; the store does.' },
    {
      name: 'node:fs/promises',
      message: 'Pure code never touches the filesystem; the store does.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'helm/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Long functions hide their steps; one that reads best long says why beside an
    // eslint-disable-next-line comment.
    files: ['src/**'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['src/model/**', 'src/online/**', 'src/codec/**'],
    rules: { 'no-restricted-imports': ['error', pureBoundary] },
  },
  {
    files: ['src/worker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: pureBoundary.paths.filter(
            (p) => p.name !== 'node:fs' && p.name !== 'node:fs/promises',
          ),
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: globals.node,
    },
  },
);
