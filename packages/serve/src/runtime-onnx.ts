// The `onnx` runtime: the exported graph on onnxruntime-node (CPU). Several sessions with one compute thread each run
// batches side by side (one per core by default): on a shared, loaded machine one session with several spinning
// threads loses much of its time waiting for descheduled threads, while single-threaded sessions do not.
import { availableParallelism } from 'node:os';
import { OcropsError } from '@ocrops/common';
import type { TaskContract } from '@ocrops/model/contract';
import type { InferenceRuntime } from './runtime.js';

type Session = import('onnxruntime-node').InferenceSession;

export interface OnnxRuntimeOptions {
  /** intra-op threads per session (default 1) */
  threads?: number;
  /** sessions running batches side by side (default: the number of cores / threads, at least 1) */
  sessions?: number;
}

/** Opens `onnxPath` with onnxruntime-node as a pool of sessions. */
export async function onnxRuntime(
  onnxPath: string,
  contract: TaskContract,
  opts: OnnxRuntimeOptions = {},
): Promise<InferenceRuntime> {
  const ort = await import('onnxruntime-node');
  const threads = opts.threads && opts.threads > 0 ? opts.threads : 1;
  const count =
    opts.sessions && opts.sessions > 0 ? opts.sessions : Math.max(1, Math.floor(availableParallelism() / threads));
  const create = async (): Promise<Session> => {
    try {
      return await ort.InferenceSession.create(onnxPath, {
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // threads that wait for work sleep instead of spinning (spinning burns the cores other sessions need)
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
    } catch (err) {
      throw new OcropsError(
        'OCROPS_SERVE_MODEL',
        `onnxruntime cannot load ${onnxPath}: ${(err as Error).message.split('\n')[0]}`,
        {
          hint: "re-export the model with 'ocrops trainer export', or serve it with --runtime tfjs",
          cause: err,
        },
      );
    }
  };
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) sessions.push(await create());
  const inputName = contract.input.name;
  const outputName = contract.outputs[0].name;
  const first = sessions[0];
  if (!first.inputNames.includes(inputName) || !first.outputNames.includes(outputName)) {
    await Promise.all(sessions.map((s) => s.release()));
    throw new OcropsError(
      'OCROPS_SERVE_MODEL',
      `${onnxPath} has inputs [${first.inputNames}] and outputs [${first.outputNames}]; its contract names '${inputName}' -> '${outputName}'`,
    );
  }
  const free = [...sessions];
  const waiting: Array<(s: Session) => void> = [];
  const acquire = (): Promise<Session> =>
    free.length > 0 ? Promise.resolve(free.pop()!) : new Promise((r) => waiting.push(r));
  const release = (s: Session) => {
    const next = waiting.shift();
    if (next) next(s);
    else free.push(s);
  };
  const version = (ort.env as { versions?: { common?: string } }).versions?.common ?? '';
  return {
    name: 'onnx',
    contract,
    detail: `onnxruntime-node ${version}, ${count} session(s) x ${threads} thread(s)`.replace('  ', ' '),
    parallel: count,
    async infer(input, dims) {
      const session = await acquire();
      try {
        const result = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) }, [outputName]);
        const out = result[outputName];
        const rank = contract.task === 'classify' ? 2 : 3;
        if (out.dims.length !== rank)
          throw new OcropsError(
            'OCROPS_SERVE_RUNTIME',
            `output '${outputName}' has rank ${out.dims.length}, expected ${rank}`,
          );
        return { data: out.data as Float32Array, dims: [...out.dims] };
      } finally {
        release(session);
      }
    },
    async dispose() {
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}
