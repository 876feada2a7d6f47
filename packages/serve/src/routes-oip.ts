/**
 * The Open Inference Protocol (KServe v2 REST) routes: server metadata, health, model metadata and readiness, and
 * infer, each under `/v2/models/{name}` (the served version) and `/v2/models/{name}/versions/{v}` (a pinned one).
 */
import type { FastifyInstance } from 'fastify';
import { withTimeout, requestStarted } from './http.js';
import type { ServeMetrics } from './metrics.js';
import { OIP_OUTPUTS, inferResponse, parseInferRequest } from './oip.js';
import { OIP_CLASSIFIER_OUTPUTS, classifyResponse, parseClassifyRequest } from './oip-classify.js';
import { InputError } from './preprocess.js';
import { classifyImages, readLines } from './reading.js';
import type { InferenceRuntime } from './runtime.js';
import type { ModelSlot, ModelSlots } from './slots.js';

export interface OipRouteOptions {
  /** model name in `/v2/models/{name}` */
  name: string;
  slots: ModelSlots;
  metrics: ServeMetrics;
  maxBatch: number;
  timeoutMs: number;
}

type InferAnswer = { body: Buffer | Record<string, unknown>; headerLength?: number };

/** What the metadata says that depends on the task: the pixel input's shape, the outputs, the task's parameters. */
function taskMetadata(contract: InferenceRuntime['contract']): {
  pixelsShape: number[];
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
  parameters: Record<string, unknown>;
} {
  if (contract.task === 'classify') {
    return {
      pixelsShape: [-1, contract.input.height, contract.input.width, contract.input.channels],
      outputs: Object.entries(OIP_CLASSIFIER_OUTPUTS).map(([name, datatype]) => ({
        name,
        datatype,
        shape: [-1, -1],
      })),
      parameters: { task: 'classify', num_classes: contract.numClasses, top_k: contract.topK },
    };
  }
  return {
    pixelsShape: [-1, contract.input.height, -1, contract.input.channels],
    outputs: Object.entries(OIP_OUTPUTS).map(([name, datatype]) => ({
      name,
      datatype,
      shape: name === 'char_confidence' ? [-1, -1] : [-1],
    })),
    parameters: { charset_size: contract.charset.length },
  };
}

/** The model metadata of a slot's version. */
function metadata(slot: ModelSlot, opts: OipRouteOptions) {
  const { runtime } = slot;
  const task = taskMetadata(runtime.contract);
  return {
    name: opts.name,
    versions: [slot.version],
    platform: runtime.name === 'onnx' ? 'onnxruntime_onnx' : 'tensorflowjs',
    inputs: [
      { name: 'image', datatype: 'BYTES', shape: [-1] },
      { name: 'pixels', datatype: 'UINT8', shape: task.pixelsShape },
    ],
    outputs: task.outputs,
    parameters: {
      ...task.parameters,
      runtime: runtime.detail,
      max_batch: opts.maxBatch,
      parallel_batches: runtime.parallel,
      served_version: opts.slots.version,
      ...slot.parameters,
    },
  };
}

/** Answers one infer request body on a slot: classes for a classifier, text for an OCR model. */
async function infer(
  slot: ModelSlot,
  body: Buffer | undefined,
  headerLength: string | undefined,
  started: number,
  opts: OipRouteOptions,
): Promise<InferAnswer> {
  const contract = slot.runtime.contract;
  const model = { name: opts.name, version: slot.version };
  if (contract.task === 'classify') {
    const parsed = parseClassifyRequest(body, headerLength, contract);
    const items = await parsed.items();
    const results = await withTimeout(classifyImages(slot, opts.metrics, items, parsed.topK, started), opts.timeoutMs);
    return classifyResponse(
      parsed,
      results.map((r) => r.top),
      model,
    );
  }
  const parsed = parseInferRequest(body, headerLength, contract);
  const lines = await parsed.lines();
  const results = await withTimeout(readLines(slot, opts.metrics, lines, parsed.beam, started), opts.timeoutMs);
  return inferResponse(parsed, results, model);
}

/** Adds the Open Inference Protocol routes. */
export function addOipRoutes(app: FastifyInstance, opts: OipRouteOptions): void {
  const { slots } = opts;
  const checkName = (params: { name?: string }) => {
    if (params.name !== opts.name)
      throw new InputError(404, `unknown model '${params.name}'; this server serves '${opts.name}'`);
  };
  app.get('/v2', async () => ({ name: 'ocrops', version: '0.1.0', extensions: ['binary_tensor_data'] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) =>
    slots.closing ? reply.code(503).send({ ready: false }) : { ready: true },
  );
  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, async (req) => {
      const params = req.params as { name: string; version?: string };
      checkName(params);
      return slots.withSlot(params.version, async (slot) => metadata(slot, opts));
    });
    app.get(`${prefix}/ready`, async (req) => {
      const params = req.params as { name: string; version?: string };
      checkName(params);
      return slots.withSlot(params.version, async () => ({ name: opts.name, ready: !slots.closing }));
    });
    app.post(`${prefix}/infer`, async (req, reply) => {
      const params = req.params as { name: string; version?: string };
      checkName(params);
      const started = requestStarted(req);
      const header = req.headers['inference-header-content-length'];
      const headerLength = Array.isArray(header) ? header[0] : header;
      const body = req.body as Buffer | undefined;
      const res = await slots.withSlot(params.version, (slot) => infer(slot, body, headerLength, started, opts));
      if (res.headerLength === undefined) return res.body;
      return reply
        .header('inference-header-content-length', String(res.headerLength))
        .type('application/octet-stream')
        .send(res.body);
    });
  }
}
