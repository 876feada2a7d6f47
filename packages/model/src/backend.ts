/**
 * TensorFlow.js backend selection: `tensorflow-gpu` (tfjs-node-gpu, when installed) -> `tensorflow` (tfjs-node on
 * the TensorFlow C library) -> `wasm` -> `cpu`. `OCROPS_BACKEND` in the environment overrides the preference.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { OcropsError } from '@ocrops/common';
import { registerWasmKernels } from './wasm-kernels.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** First backend to try (then the default order). `OCROPS_BACKEND` wins over this. */
  prefer?: BackendName;
  /** Do not print the chosen backend. */
  quiet?: boolean;
  /**
   * Compute threads for the native backend (sets TF_NUM_INTRAOP_THREADS/TF_NUM_INTEROP_THREADS unless already set;
   * effective only before the native backend's first op).
   */
  threads?: number;
}

async function tryBackend(name: BackendName, threads?: number): Promise<string | undefined> {
  switch (name) {
    case 'tensorflow-gpu': {
      try {
        require.resolve('@tensorflow/tfjs-node-gpu');
      } catch {
        throw new Error('@tensorflow/tfjs-node-gpu is not installed');
      }
      if (threads) setThreadEnv(threads);
      require('@tensorflow/tfjs-node-gpu');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node-gpu did not register');
      return 'tfjs-node-gpu';
    }
    case 'tensorflow': {
      if (threads) setThreadEnv(threads);
      const node = require('@tensorflow/tfjs-node') as { version: Record<string, string> };
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node did not register its backend');
      return `TensorFlow ${node.version['tfjs-node'] ? `C library via tfjs-node ${node.version['tfjs-node']}` : ''}`.trim();
    }
    case 'wasm': {
      require('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
      registerWasmKernels();
      return 'XNNPACK wasm, single-threaded in Node';
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
      return 'plain JavaScript (slow: tiny tests only)';
  }
}

function setThreadEnv(threads: number): void {
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  process.env.TF_NUM_INTEROP_THREADS ??= String(threads);
}

/**
 * Activates the best available backend and returns its name (`tensorflow`, `wasm`, `cpu`, ... as tfjs names it,
 * except `tensorflow-gpu`) and a detail line. Prints `backend: <name> (<detail>)` unless `quiet`.
 * An explicit `OCROPS_BACKEND` that cannot be loaded is an error; otherwise unavailable backends are skipped.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<{ name: string; detail?: string }> {
  const env = process.env.OCROPS_BACKEND?.trim();
  if (env && !BACKENDS.includes(env as BackendName)) {
    throw new OcropsError('OCROPS_MODEL_BACKEND', `OCROPS_BACKEND='${env}' is not a backend`, {
      hint: `use one of ${BACKENDS.join(', ')}`,
    });
  }
  const order: BackendName[] = env
    ? [env as BackendName]
    : opts.prefer
      ? [opts.prefer, ...BACKENDS.filter((b) => b !== opts.prefer)]
      : [...BACKENDS];
  const failures: string[] = [];
  for (const name of order) {
    try {
      const detail = await tryBackend(name, opts.threads);
      const result = { name: name === 'tensorflow-gpu' ? name : tf.getBackend(), detail };
      if (!opts.quiet) console.log(`backend: ${result.name}${detail ? ` (${detail})` : ''}`);
      return result;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new OcropsError('OCROPS_MODEL_BACKEND', `no TensorFlow.js backend could be loaded (${failures.join('; ')})`, {
    hint: env ? 'unset OCROPS_BACKEND or install that backend' : 'run scripts/setup to build tfjs-node',
  });
}
