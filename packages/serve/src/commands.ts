// `ocrops serve`: the inference server for a trained model, until SIGTERM/SIGINT (in-flight requests finish first).
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { ModelRegistry, TrackerApi, parseModelRef } from '@ocrops/tracker';
import { openModel } from './model-source.js';
import { followAlias, isRegistryRef, openRegistryModel, registryParameters } from './registry-source.js';
import { RUNTIMES, type InferenceRuntime, type RuntimeName } from './runtime.js';
import { startServe } from './server.js';

const spec: CommandSpec = {
  usage:
    'ocrops serve --model <run folder | models/best | export folder | file.onnx | registry:<model>@<alias>> [--port 8080] [options]',
  description:
    'Serves a model (OCR, or an image classifier: top-k labels and probabilities) over HTTP: the Open Inference Protocol\n' +
    '(KServe v2) under /v2, POST /predict for image uploads, a web\n' +
    'page at / to try it, Prometheus metrics at /metrics. Concurrent requests are batched dynamically. A DVC output that\n' +
    'is not on disk is pulled from DVC storage first; a model folder without model.onnx is exported to ONNX once (cached).\n' +
    "registry:<model>@<alias> serves the version the alias names in the tracker's model registry (weights downloaded and\n" +
    'md5-verified) and switches to the new version whenever the alias moves, without failing requests in flight;\n' +
    '/v2/models/{name}/versions/{v} then serves any registered version v (loaded on demand).',
  options: {
    model: { type: 'string', default: 'models/best' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string', default: 'ocr' },
    runtime: { type: 'string', default: 'onnx' },
    threads: { type: 'string' },
    sessions: { type: 'string' },
    'max-batch': { type: 'string', default: '16' },
    'max-delay-ms': { type: 'string', default: '5' },
    'api-key': { type: 'string', multiple: true },
    'tracker-keys': { type: 'string' },
    cors: { type: 'string', multiple: true },
    'body-limit-mb': { type: 'string', default: '20' },
    'timeout-ms': { type: 'string', default: '30000' },
    tracker: { type: 'string' },
    'tracker-api-key': { type: 'string' },
    workspace: { type: 'string' },
    'poll-ms': { type: 'string', default: '2000' },
    'registry-cache': { type: 'string' },
    'version-cache': { type: 'string', default: '2' },
  },
  help: {
    model:
      'a training run folder, a model or export folder (models/best), a .onnx file with ocrops-model.json beside it, or a DVC output',
    port: 'port to listen on (0 = any free port)',
    host: 'address to listen on',
    name: 'model name in /v2/models/{name}',
    runtime: `inference runtime: ${RUNTIMES.join(' | ')}`,
    threads: 'compute threads per runtime session (onnx default 1; tfjs default: all cores)',
    sessions: 'onnx: sessions running batches side by side (default: cores / threads)',
    'max-batch': 'most lines run together in one batch',
    'max-delay-ms': 'longest a line waits for others to fill its batch',
    'api-key': 'accept this API key (repeat for several); without keys the server is open',
    'tracker-keys': 'also accept the API keys of the tracker at this URL (e.g. http://127.0.0.1:5959)',
    cors: 'allow browser requests from this origin (repeat for several); CORS is off by default',
    'body-limit-mb': 'largest request body (MiB)',
    'timeout-ms': 'a request not answered within this time gets 504',
    tracker: 'registry models: tracker server (default: COMET_URL_OVERRIDE or http://127.0.0.1:5959)',
    'tracker-api-key': 'registry models: tracker API key (default: COMET_API_KEY or .ocrops/tracker/default-key)',
    workspace: 'registry models: tracker workspace (default: COMET_WORKSPACE or default)',
    'poll-ms': 'registry models served by alias: how often the alias is checked',
    'registry-cache': 'registry models: folder of verified weights (default .ocrops/registry-cache)',
    'version-cache':
      'registry models: pinned versions (/v2/models/{name}/versions/{v}) kept loaded besides the served one',
  },
  examples: [
    'ocrops serve --model models/best --port 8080',
    'curl -F file=@line.png http://127.0.0.1:8080/predict',
    'ocrops serve --model runs/captcha --runtime tfjs --api-key s3cret',
    'ocrops serve --model registry:vn-address@champion --tracker http://127.0.0.1:5959',
  ],
};

function positiveNumber(v: string | undefined, flag: string, integer = true): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new OcropsError(
      'OCROPS_USAGE',
      `--${flag} must be a non-negative ${integer ? 'integer' : 'number'}, got '${v}'`,
    );
  }
  return n;
}

async function serve(argv: string[]): Promise<void> {
  const v = parseCommand(spec, argv).values as Record<string, string | undefined> & {
    'api-key'?: string[];
    cors?: string[];
  };
  const runtime = v.runtime as RuntimeName;
  if (!RUNTIMES.includes(runtime))
    throw new OcropsError('OCROPS_USAGE', `--runtime must be one of ${RUNTIMES.join(', ')}, got '${v.runtime}'`);
  const threads = v.threads === undefined ? undefined : positiveNumber(v.threads, 'threads');
  const sessions = v.sessions === undefined ? undefined : positiveNumber(v.sessions, 'sessions');
  const log = (m: string) => console.log(m);
  const model = v.model!;
  const fromRegistry = isRegistryRef(model);
  let rt;
  let source: string;
  let version: string | undefined;
  let parameters: Record<string, string> | undefined;
  let loadVersion: ((version: string) => Promise<InferenceRuntime>) | undefined;
  const ref = fromRegistry ? parseModelRef(model) : undefined;
  const registryOpts = {
    runtime,
    threads,
    sessions,
    log,
    cacheDir: v['registry-cache'],
    registry: new ModelRegistry(
      new TrackerApi({ url: v.tracker, apiKey: v['tracker-api-key'], workspace: v.workspace }),
    ),
  };
  if (ref) {
    const loaded = await openRegistryModel(ref, registryOpts);
    rt = loaded.runtime;
    version = loaded.version.version;
    parameters = registryParameters(ref, loaded.version);
    source = `${model} (${loaded.version.modelName}:${version})`;
    loadVersion = async (pin) =>
      (await openRegistryModel({ modelName: ref.modelName, version: pin }, registryOpts)).runtime;
  } else {
    const opened = await openModel(model, { runtime, threads, sessions, log });
    rt = opened.runtime;
    source = opened.files.onnx ?? opened.files.dir;
  }
  const server = await startServe({
    runtime: rt,
    version,
    parameters,
    loadVersion,
    versionCacheSize: positiveNumber(v['version-cache'], 'version-cache'),
    name: v.name!,
    host: v.host,
    port: positiveNumber(v.port, 'port'),
    maxBatch: positiveNumber(v['max-batch'], 'max-batch'),
    maxDelayMs: positiveNumber(v['max-delay-ms'], 'max-delay-ms', false),
    apiKeys: v['api-key'],
    trackerUrl: v['tracker-keys'],
    corsOrigins: v.cors,
    bodyLimit: Math.round(positiveNumber(v['body-limit-mb'], 'body-limit-mb', false) * 1024 * 1024),
    timeoutMs: positiveNumber(v['timeout-ms'], 'timeout-ms'),
    log,
  });
  const watch = ref?.alias
    ? followAlias(server, ref, { ...registryOpts, intervalMs: positiveNumber(v['poll-ms'], 'poll-ms') })
    : undefined;
  console.log(`serving ${source} as '${v.name}' on ${rt.detail}`);
  console.log(`  web page  ${server.url}/`);
  console.log(`  predict   curl -F file=@line.png ${server.url}/predict`);
  console.log(`  KServe v2 ${server.url}/v2/models/${v.name}/infer   metrics ${server.url}/metrics`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      console.log(`${sig}: finishing in-flight requests ...`);
      watch?.stop();
      void server.close().then(resolve, (err) => {
        console.error(`error while stopping: ${(err as Error).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  console.log('stopped');
}

/** `ocrops serve` (mounted by @ocrops/cli as a group whose default command is `serve`). */
export const commands: CommandTable = {
  serve: { summary: 'serve a model over HTTP (KServe v2, /predict, web page, metrics)', run: serve },
};
