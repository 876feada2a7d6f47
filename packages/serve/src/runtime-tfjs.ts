// The `tfjs` runtime: ocrops's own forward pass of a saved model folder (OCR model or image classifier), on the best
// TensorFlow.js backend available.
import type { TaskContract } from '@ocrops/model/contract';
import type { InferenceRuntime } from './runtime.js';

/** Loads a model folder written by train/export (`ocrops.json` + weights) for inference. */
export async function tfjsRuntime(
  modelDir: string,
  contract: TaskContract,
  opts: { threads?: number } = {},
): Promise<InferenceRuntime> {
  const [tf, { loadTaskModel, selectBackend }] = await Promise.all([
    import('@tensorflow/tfjs'),
    import('@ocrops/model'),
  ]);
  const backend = await selectBackend({ quiet: true, ...(opts.threads ? { threads: opts.threads } : {}) });
  const { model } = await loadTaskModel(modelDir);
  // a classifier's contract may promise probabilities (what its ONNX graph gives): the forward pass gives logits
  const softmax = contract.task === 'classify' && contract.outputs[0].kind === 'probabilities';
  return {
    name: 'tfjs',
    contract,
    detail: `tfjs ${tf.version.tfjs} (${backend.name})`,
    parallel: 1, // TensorFlow.js runs its ops on the main thread, one batch at a time
    async infer(input, dims) {
      const logits = tf.tidy(() => {
        const y = model.forward(tf.tensor4d(input, dims), false);
        return softmax ? tf.softmax(y) : y;
      });
      try {
        const data = (await logits.data()) as Float32Array;
        return { data, dims: logits.shape };
      } finally {
        logits.dispose();
      }
    },
    async dispose() {
      model.dispose();
    },
  };
}
