/**
 * Chooses the tfjs backend once per thread: the native TensorFlow binding when it is installed, else
 * WebAssembly (SIMD, one thread), else the plain JavaScript CPU kernels.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

let ready: Promise<string> | undefined;

/** The optional native binding; a variable keeps the compiler from resolving a package that may be absent. */
const nativeBindingPackage = '@tensorflow/tfjs-node';

async function tryTensorflow(log: (msg: string) => void): Promise<boolean> {
  try {
    await import(nativeBindingPackage);
    return await tf.setBackend('tensorflow');
  } catch (error) {
    log(`backend: @tensorflow/tfjs-node unavailable (${describe(error)})`);
    return false;
  }
}

async function tryWasm(log: (msg: string) => void): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
    // The package's main file lives in dist/, next to the .wasm binaries.
    wasm.setWasmPaths(path.dirname(entry) + path.sep);
    // Worker threads inside the wasm module are not available in Node; one thread, SIMD kernels.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(1);
    return await tf.setBackend('wasm');
  } catch (error) {
    log(`backend: wasm unavailable (${describe(error)})`);
    return false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

async function choose(preference: BackendPreference, log: (msg: string) => void): Promise<string> {
  if ((preference === 'auto' || preference === 'tensorflow') && (await tryTensorflow(log))) {
    log('backend: tensorflow (native)');
    return tf.getBackend();
  }
  if (
    (preference === 'auto' || preference === 'wasm' || preference === 'tensorflow') &&
    (await tryWasm(log))
  ) {
    log('backend: wasm (SIMD, 1 thread)');
    return tf.getBackend();
  }
  await tf.setBackend('cpu');
  log('backend: cpu');
  return tf.getBackend();
}

/**
 * Initialises the backend for this thread and returns its name. Idempotent: later calls return the
 * backend chosen by the first one, whatever they ask for.
 */
export function initBackend(
  preference: BackendPreference = 'auto',
  log: (msg: string) => void = () => {},
): Promise<string> {
  ready ??= choose(preference, log).then(async (name) => {
    await tf.ready();
    return name;
  });
  return ready;
}

/** The backend in use now, or 'uninitialised' before initBackend has finished. */
export function currentBackend(): string {
  return ready === undefined ? 'uninitialised' : tf.getBackend();
}

/** Tensors alive in this thread's engine: flat while nothing leaks. */
export function liveTensorCount(): number {
  return tf.memory().numTensors;
}
