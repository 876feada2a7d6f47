// `ocrops serve`: the inference server for a trained model, until SIGTERM/SIGINT (in-flight requests finish first).
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { openModel } from './model-source.js';
import { RUNTIMES, type RuntimeName } from './runtime.js';
import { startServe } from './server.js';

const spec: CommandSpec = {
  usage: 'ocrops serve --model <run folder | models/best | export folder | file.onnx> [--port 8080] [options]',
  description:
    'Serves a model over HTTP: the Open Inference Protocol (KServe v2) under /v2, POST /predict for image uploads, a web\n' +
    'page at / to try it, Prometheus metrics at /metrics. Concurrent requests are batched dynamically. A DVC output that\n' +
    'is not on disk is pulled from DVC storage first; a model folder without model.onnx is exported to ONNX once (cached).',
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
  },
  help: {
    model: 'a training run folder, a model or export folder (models/best), a .onnx file with ocrops-model.json beside it, or a DVC output',
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
  },
  examples: [
    'ocrops serve --model models/best --port 8080',
    'curl -F file=@line.png http://127.0.0.1:8080/predict',
    'ocrops serve --model runs/captcha --runtime tfjs --api-key s3cret',
  ],
};

function positiveNumber(v: string | undefined, flag: string, integer = true): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new OcropsError('OCROPS_USAGE', `--${flag} must be a non-negative ${integer ? 'integer' : 'number'}, got '${v}'`);
  }
  return n;
}

async function serve(argv: string[]): Promise<void> {
  const v = parseCommand(spec, argv).values as Record<string, string | undefined> & { 'api-key'?: string[]; cors?: string[] };
  const runtime = v.runtime as RuntimeName;
  if (!RUNTIMES.includes(runtime)) throw new OcropsError('OCROPS_USAGE', `--runtime must be one of ${RUNTIMES.join(', ')}, got '${v.runtime}'`);
  const threads = v.threads === undefined ? undefined : positiveNumber(v.threads, 'threads');
  const sessions = v.sessions === undefined ? undefined : positiveNumber(v.sessions, 'sessions');
  const log = (m: string) => console.log(m);
  const { runtime: rt, files } = await openModel(v.model!, { runtime, threads, sessions, log });
  const server = await startServe({
    runtime: rt,
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
  console.log(`serving ${files.onnx ?? files.dir} as '${v.name}' on ${rt.detail}`);
  console.log(`  web page  ${server.url}/`);
  console.log(`  predict   curl -F file=@line.png ${server.url}/predict`);
  console.log(`  KServe v2 ${server.url}/v2/models/${v.name}/infer   metrics ${server.url}/metrics`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      console.log(`${sig}: finishing in-flight requests ...`);
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
