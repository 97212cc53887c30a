import { initBackend, type BackendPreference } from '../../src/model/backend.js';

const preferences: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/**
 * Starts the TensorFlow.js backend of a benchmark: `BENCH_BACKEND` when set, else `fallback`.
 * Returns the backend's name, which every result records.
 */
export function benchBackend(
  fallback: BackendPreference,
  log?: (message: string) => void,
): Promise<string> {
  const wanted = process.env.BENCH_BACKEND ?? fallback;
  const preference = preferences.find((p) => p === wanted);
  if (preference === undefined) {
    throw new Error(`BENCH_BACKEND must be one of ${preferences.join(', ')}, got '${wanted}'`);
  }
  return initBackend(preference, log);
}
