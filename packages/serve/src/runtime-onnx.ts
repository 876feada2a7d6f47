// The `onnx` runtime: the exported graph on onnxruntime-node (CPU), one session for the life of the server.
import { OcropsError } from '@ocrops/common';
import type { ModelContract } from '@ocrops/model/contract';
import type { InferenceRuntime } from './runtime.js';

/** Opens `onnxPath` with onnxruntime-node; `threads` = intra-op threads (0 = onnxruntime's default, all cores). */
export async function onnxRuntime(onnxPath: string, contract: ModelContract, opts: { threads?: number } = {}): Promise<InferenceRuntime> {
  const ort = await import('onnxruntime-node');
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxPath, {
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    });
  } catch (err) {
    throw new OcropsError('OCROPS_SERVE_MODEL', `onnxruntime cannot load ${onnxPath}: ${(err as Error).message.split('\n')[0]}`, {
      hint: "re-export the model with 'ocrops trainer export', or serve it with --runtime tfjs",
      cause: err,
    });
  }
  const inputName = contract.input.name;
  const outputName = contract.outputs[0].name;
  if (!session.inputNames.includes(inputName) || !session.outputNames.includes(outputName)) {
    throw new OcropsError('OCROPS_SERVE_MODEL',
      `${onnxPath} has inputs [${session.inputNames}] and outputs [${session.outputNames}]; its contract names '${inputName}' -> '${outputName}'`);
  }
  const version = (ort.env as { versions?: { common?: string } }).versions?.common ?? '';
  return {
    name: 'onnx',
    contract,
    detail: `onnxruntime-node ${version}`.trim(),
    async infer(input, dims) {
      const feeds = { [inputName]: new ort.Tensor('float32', input, dims) };
      const result = await session.run(feeds, [outputName]);
      const out = result[outputName];
      if (out.dims.length !== 3) throw new OcropsError('OCROPS_SERVE_RUNTIME', `output '${outputName}' has rank ${out.dims.length}, expected 3`);
      const data = out.data as Float32Array;
      out.dispose?.();
      return { data, dims: out.dims as unknown as [number, number, number] };
    },
    async dispose() {
      await session.release();
    },
  };
}
