// A small in-memory server implementing the tracker's dashboard contract (docs/architecture.md "Dashboard API" and
// the Comet read endpoints the dashboard uses). For developing the UI without the real tracker:
//   node --conditions=@ocrops/source --import tsx packages/dashboard/dev/fixture-server.ts [--port 5960]
// It is not part of the product; the browser tests run against @ocrops/tracker's startServer.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { RunRow, SeriesPoint, SweepInfo } from '@ocrops/tracker/api';
import { matchesFilter, parseFilter, sortRuns } from '@ocrops/tracker/api';
import { webDistDir } from '../src/web.js';
import { Rng } from '@ocrops/common';

interface RawPoint {
  step: number;
  epoch: number;
  timestamp: number;
  value: number;
}
interface FixtureRun extends RunRow {
  series: Record<string, RawPoint[]>;
  others: Record<string, unknown>;
  output: string;
}

/** In-memory data of the fixture server. */
export interface FixtureStore {
  workspace: string;
  runs: FixtureRun[];
  sweeps: SweepInfo[];
}

/** Uniform draws in [0, 1) from the repository's seeded generator. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** Generates `n` OCR-like runs in project "ocr" (train/val loss and accuracy per step and epoch) and one sweep. */
export function demoStore(n = 12, stepsPerRun = 600): FixtureStore {
  const rand = rng(7);
  const runs: FixtureRun[] = [];
  const t0 = Date.UTC(2026, 10, 22, 9, 0);
  const sweepTrials: SweepInfo['trials'] = [];
  for (let i = 0; i < n; i++) {
    const innerDim = [32, 64, 128, 256, 512][i % 5];
    const lr = 10 ** (-4 + rand() * 2);
    const quality = 0.3 + Math.log2(innerDim) / 12 + rand() * 0.1;
    const series: Record<string, RawPoint[]> = {
      train_loss: [],
      val_loss: [],
      val_acc_by_char: [],
      train_acc_by_char: [],
    };
    const start = t0 + i * 3_600_000;
    const epochs = 20;
    for (let s = 0; s < stepsPerRun; s++) {
      const epoch = Math.floor((s * epochs) / stepsPerRun);
      const ts = start + s * 1500;
      const loss = 3 * Math.exp(-s / (stepsPerRun * quality * 0.4)) + 0.05 + rand() * 0.15;
      series.train_loss.push({ step: s, epoch, timestamp: ts, value: loss });
      series.train_acc_by_char.push({ step: s, epoch, timestamp: ts, value: 1 - loss / 3.2 });
      if ((s + 1) % (stepsPerRun / epochs) === 0) {
        const v = loss * 1.2 + 0.3 * (1 - quality) + rand() * 0.05;
        series.val_loss.push({ step: s, epoch, timestamp: ts, value: v });
        series.val_acc_by_char.push({ step: s, epoch, timestamp: ts, value: Math.max(0, 1 - v / 2) });
      }
    }
    const key = (i + 1).toString(16).padStart(32, 'a');
    const metrics: RunRow['metrics'] = {};
    for (const [name, pts] of Object.entries(series)) {
      const vals = pts.map((p) => p.value);
      const last = pts[pts.length - 1];
      metrics[name] = {
        last: last.value,
        min: Math.min(...vals),
        max: Math.max(...vals),
        step: last.step,
        epoch: last.epoch,
        count: pts.length,
        lastTimestamp: last.timestamp,
      };
    }
    const running = i === n - 1;
    const end = start + stepsPerRun * 1500;
    const inSweep = i < 6;
    runs.push({
      experimentKey: key,
      experimentName: `crnn-${innerDim}-${i}`,
      projectName: 'ocr',
      workspaceName: 'default',
      status: running ? 'running' : i === 3 ? 'crashed' : 'finished',
      startTimeMillis: start,
      endTimeMillis: running ? null : end,
      durationMillis: end - start,
      tags: inSweep ? ['sweep', 'vgg'] : ['vgg'],
      optimizationId: inSweep ? 'sweep0001' : null,
      params: {
        inner_dim: innerDim,
        lr: Number(lr.toPrecision(3)),
        batch_size: 32,
        epochs,
        arch: 'vgg',
        rnn: i % 2 ? 'gru' : 'lstm',
      },
      metrics,
      series,
      others: {
        git_commit: '82c254e0b1d3f0c9a8e7d6c5b4a39281706f5e4d',
        dvc_models_best: 'd41d8cd98f00b204e9800998ecf8427e.dir',
        dvc_data_prepared: '0cc175b9c0f1b6a831c399e269772661.dir',
        ...(inSweep ? { optimizer_id: 'sweep0001', optimizer_trial: 1 } : {}),
      },
      output: `epoch 1/${epochs} train_loss=2.91 val_loss=2.95\nepoch 2/${epochs} train_loss=1.80 val_loss=1.92\n`,
    });
    if (inSweep) {
      sweepTrials.push({
        trialId: i + 1,
        pid: `pid${i}`,
        parameters: { inner_dim: innerDim, lr: Number(lr.toPrecision(3)) },
        status: 'completed',
        score: metrics.val_loss.min,
        experimentKey: key,
      });
    }
  }
  const sweeps: SweepInfo[] = [
    {
      id: 'sweep0001',
      name: 'inner-dim search',
      algorithm: 'bayes',
      status: 'completed',
      config: {
        algorithm: 'bayes',
        name: 'inner-dim search',
        spec: { metric: 'val_loss', objective: 'minimize', maxCombo: 6 },
        parameters: {
          inner_dim: { type: 'discrete', values: [32, 64, 128, 256, 512] },
          lr: { type: 'float', scalingType: 'loguniform', min: 1e-4, max: 1e-2 },
        },
      },
      trials: sweepTrials,
    },
  ];
  return { workspace: 'default', runs, sweeps };
}

/** Min/max-preserving bucket downsampling of raw points to about `target` points. */
export function downsample(points: RawPoint[], x: 'step' | 'epoch' | 'timestamp', target: number): SeriesPoint[] {
  const toPoint = (p: RawPoint): SeriesPoint => ({
    x: p[x],
    step: p.step,
    epoch: p.epoch,
    timestamp: p.timestamp,
    value: p.value,
    min: p.value,
    max: p.value,
  });
  if (points.length <= target) return points.map(toPoint);
  const size = points.length / target;
  const out: SeriesPoint[] = [];
  for (let b = 0; b < target; b++) {
    const chunk = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (chunk.length === 0) continue;
    const last = chunk[chunk.length - 1];
    out.push({
      ...toPoint(last),
      min: Math.min(...chunk.map((p) => p.value)),
      max: Math.max(...chunk.map((p) => p.value)),
    });
  }
  return out;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Starts the fixture server on 127.0.0.1 (port 0 = any free port). `apiKey` unset = open read access. */
export async function startFixtureServer(
  opts: { port?: number; store?: FixtureStore; apiKey?: string } = {},
): Promise<{ url: string; store: FixtureStore; close(): Promise<void> }> {
  const store = opts.store ?? demoStore();
  const listeners = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { msg: String(err) }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    const p = u.pathname;
    if (p.startsWith('/api/')) {
      const key = req.headers.authorization ?? q.get('apiKey');
      if (opts.apiKey && key !== opts.apiKey) return send(res, 401, { msg: 'invalid API key' });
    }
    const run = store.runs.find((r) => r.experimentKey === q.get('experimentKey'));
    const inProject = () => store.runs.filter((r) => !q.get('projectName') || r.projectName === q.get('projectName'));
    switch (p) {
      case '/api/rest/v2/workspaces':
        return send(res, 200, { workspaceNames: [store.workspace] });
      case '/api/rest/v2/projects': {
        const names = [...new Set(store.runs.map((r) => r.projectName ?? 'ocr'))];
        return send(res, 200, {
          projects: names.map((projectName) => ({
            projectId: projectName,
            projectName,
            workspaceName: store.workspace,
            numberOfExperiments: store.runs.filter((r) => r.projectName === projectName).length,
            lastUpdated: Date.now(),
          })),
        });
      }
      case '/api/ocrops/runs': {
        let runs: FixtureRun[] = inProject();
        try {
          runs = runs.filter((r) => matchesFilter(r, parseFilter(q.get('filter') ?? '')));
        } catch (err) {
          return send(res, 400, { msg: (err as Error).message });
        }
        if (q.get('sort'))
          runs = sortRuns(runs, q.get('sort')!, q.get('order') === 'desc' ? 'desc' : 'asc') as FixtureRun[];
        const offset = Number(q.get('offset') ?? 0);
        const limit = Number(q.get('limit') ?? 1000);
        return send(res, 200, {
          total: runs.length,
          runs: runs.slice(offset, offset + limit).map(({ series: _s, others: _o, output: _out, ...r }) => r as RunRow),
        });
      }
      case '/api/ocrops/series': {
        if (!run) return send(res, 404, { msg: 'unknown experimentKey' });
        const x = (q.get('x') ?? 'step') as 'step' | 'epoch' | 'timestamp';
        let pts = run.series[q.get('metricName') ?? ''] ?? [];
        if (q.get('from') !== null) pts = pts.filter((pt) => pt[x] >= Number(q.get('from')));
        if (q.get('to') !== null) pts = pts.filter((pt) => pt[x] <= Number(q.get('to')));
        const target = Number(q.get('points') ?? 500);
        return send(res, 200, {
          metricName: q.get('metricName'),
          total: pts.length,
          downsampled: pts.length > target,
          points: downsample(pts, x, target),
        });
      }
      case '/api/ocrops/sweeps':
        return send(res, 200, {
          sweeps: store.sweeps.map(({ trials, ...s }) => ({ ...s, trialCount: trials?.length ?? 0 })),
        });
      case '/api/ocrops/sweep': {
        const s = store.sweeps.find((x) => x.id === q.get('id'));
        return s ? send(res, 200, s) : send(res, 404, { msg: 'unknown sweep' });
      }
      case '/api/ocrops/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(': connected\n\n');
        listeners.add(res);
        req.on('close', () => listeners.delete(res));
        return;
      }
    }
    if (p.startsWith('/api/rest/v2/experiment')) {
      if (!run) return send(res, 404, { msg: 'unknown experimentKey' });
      switch (p.slice('/api/rest/v2/experiment'.length)) {
        case '/metadata':
          return send(res, 200, {
            experimentKey: run.experimentKey,
            experimentName: run.experimentName,
            projectName: run.projectName,
            workspaceName: store.workspace,
            startTimeMillis: run.startTimeMillis,
            endTimeMillis: run.endTimeMillis,
            durationMillis: run.durationMillis,
            running: run.status === 'running',
            hasCrashed: run.status === 'crashed',
            optimizationId: run.optimizationId,
          });
        case '/metrics/summary':
          return send(res, 200, {
            values: Object.entries(run.metrics).map(([name, m]) => ({
              name,
              valueMin: m.min,
              valueMax: m.max,
              valueCurrent: m.last,
              stepCurrent: m.step,
            })),
          });
        case '/parameters':
          return send(res, 200, { values: Object.entries(run.params).map(([name, v]) => ({ name, valueCurrent: v })) });
        case '/log-other':
          return send(res, 200, { values: Object.entries(run.others).map(([name, v]) => ({ name, valueCurrent: v })) });
        case '/tags':
          return send(res, 200, { tags: run.tags });
        case '/output':
          return send(res, 200, { output: run.output });
        case '/html':
          return send(res, 200, { html: '' });
        case '/git/metadata':
          return send(res, 200, {
            user: 'dev',
            root: '/work/main',
            branch: 'main',
            parent: '82c254e',
            origin: 'git@example:ocrops.git',
          });
        case '/system-details':
          return send(res, 200, {
            hostname: 'fixture',
            os: 'Linux',
            pid: 1234,
            user: 'dev',
            command: ['ocrops', 'trainer', 'train'],
            pythonVersion: null,
          });
        case '/asset/list':
          return send(res, 200, {
            assets: [
              { assetId: 'a1', fileName: 'confusion.png', fileSize: 20480, type: 'image', step: 100 },
              { assetId: 'a2', fileName: 'model.json', fileSize: 4096, type: 'model-element', groupingName: 'best' },
            ],
          });
        case '/asset/get-asset':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end('asset');
          return;
      }
      return send(res, 404, { msg: 'no such endpoint' });
    }
    const dist = webDistDir();
    const file = normalize(join(dist, p === '/' ? 'index.html' : p));
    if (file.startsWith(dist) && existsSync(file) && !file.endsWith('/')) {
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
      res.end(await readFile(file));
      return;
    }
    send(res, 404, { msg: 'not found' });
  }
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        for (const l of listeners) l.end();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--port');
  const srv = await startFixtureServer({ port: i > 0 ? Number(process.argv[i + 1]) : 5960 });
  console.log(`fixture server at ${srv.url}/`);
}
