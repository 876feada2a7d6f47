// The `tfjs` runtime: ocrops's own forward pass of a saved model folder, on the best TensorFlow.js backend available.
import type { ModelContract } from '@ocrops/model/contract';
import type { InferenceRuntime } from './runtime.js';

/** Loads a model folder written by train/export (`ocrops.json` + weights) for inference. */
export async function tfjsRuntime(modelDir: string, contract: ModelContract, opts: { threads?: number } = {}): Promise<InferenceRuntime> {
  const [tf, { loadModel, selectBackend }] = await Promise.all([import('@tensorflow/tfjs'), import('@ocrops/model')]);
  const backend = await selectBackend({ quiet: true, ...(opts.threads ? { threads: opts.threads } : {}) });
  const { model } = await loadModel(modelDir);
  return {
    name: 'tfjs',
    contract,
    detail: `tfjs ${tf.version.tfjs} (${backend.name})`,
    parallel: 1, // TensorFlow.js runs its ops on the main thread, one batch at a time
    async infer(input, dims) {
      const logits = tf.tidy(() => model.forward(tf.tensor4d(input, dims), false));
      try {
        const data = (await logits.data()) as Float32Array;
        return { data, dims: logits.shape as [number, number, number] };
      } finally {
        logits.dispose();
      }
    },
    async dispose() {
      model.dispose();
    },
  };
}
