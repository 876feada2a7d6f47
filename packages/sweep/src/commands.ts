// `ocrops sweep <command>`: run (create, join or resume a sweep), worker (join from another host), best, status.
import { helpText, OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { TrackerApi } from '@ocrops/tracker';
import { loadTrainConfig } from '@ocrops/trainer';
import { runSweep, trialDirName, type RunSweepOptions } from './runner.js';
import { loadSweepFile } from './sweep-config.js';
import { bestWeights, installBest, noWeightsError, weightsRemote } from './weights.js';

const connection = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  workspace: { type: 'string' },
} as const;
const connectionHelp = {
  url: 'tracker server (default: COMET_URL_OVERRIDE or http://127.0.0.1:5959)',
  'api-key': 'API key (default: COMET_API_KEY or .ocrops/tracker/default-key)',
  workspace: 'workspace (default: COMET_WORKSPACE or "default")',
};

const s3Options = { 's3-url': { type: 'string' }, 's3-endpoint': { type: 'string' } } as const;
const s3Help = {
  's3-url':
    'S3 location of trial weights, s3://bucket/prefix (default: the DVC default remote of this checkout); ' +
    'credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or .dvc/config.local',
  's3-endpoint': "S3-compatible endpoint, e.g. http://seaweedfs:8333 (default: AWS, or the DVC remote's endpointurl)",
};

const workerSpec: CommandSpec = {
  usage: 'ocrops sweep worker --tracker <url> --sweep <id> [--api-key KEY] [--workers N] [--s3-url s3://bucket/prefix]',
  description:
    'Join a sweep from this host and run its trials until the sweep has nothing left to suggest. A worker needs only\n' +
    'the tracker URL, an API key, S3 settings and a checkout of the configs: the sweep file is read from the tracker,\n' +
    'each trial is leased to this worker and kept by heartbeats (a trial whose worker dies is assigned again, up to\n' +
    "the sweep's spec.retryAssignLimit times), and every completed trial's best weights are pushed to S3 in DVC's\n" +
    'cache layout before its result is reported. Nothing is shared with other hosts but the tracker and S3.',
  options: {
    tracker: { type: 'string' },
    sweep: { type: 'string' },
    'api-key': { type: 'string' },
    workspace: { type: 'string' },
    workers: { type: 'string', short: 'w' },
    out: { type: 'string' },
    'max-trials': { type: 'string' },
    ...s3Options,
    'lease-seconds': { type: 'string' },
    name: { type: 'string' },
  },
  help: {
    tracker: 'tracker server URL (default: COMET_URL_OVERRIDE or http://127.0.0.1:5959)',
    sweep: 'the sweep id (from `ocrops sweep run` or the dashboard); default: OCROPS_SWEEP_ID',
    'api-key': connectionHelp['api-key'],
    workspace: connectionHelp.workspace,
    workers: 'parallel trials on this host (default 1)',
    out: "local folder of the trial runs (default: the sweep file's ocrops.out)",
    'max-trials': 'start at most this many trials, then stop',
    ...s3Help,
    'lease-seconds': 'heartbeat lease on each trial (default 60)',
    name: "this worker's name in the leases (default: host name and pid)",
  },
  examples: [
    'ocrops sweep worker --tracker http://tracker:5959 --sweep 0123abcd... --s3-url s3://ocrops/dvc --s3-endpoint http://seaweedfs:8333',
  ],
};

const createSpec: CommandSpec = {
  usage: 'ocrops sweep create --config <sweep.yaml> [--url URL] [--api-key KEY]',
  description:
    'Create a sweep in the tracker from a sweep file (kept there whole, so workers need only its id) and print its id.\n' +
    'Then start `ocrops sweep worker --sweep <id>` on any number of hosts.',
  options: { config: { type: 'string', short: 'c' }, ...connection },
  help: { config: 'sweep file (YAML or JSON)', ...connectionHelp },
};

const bestSpec: CommandSpec = {
  usage: 'ocrops sweep best <sweep-id> --dest <dir> [--s3-url s3://bucket/prefix] [--s3-endpoint URL]',
  description:
    "Download the best completed trial's weights of a sweep from S3 (where the host that trained them pushed them),\n" +
    "verifying every file's md5, into <dir> with best.json {sweepId, pid, trial, parameters, metric, value, ...}.",
  options: { dest: { type: 'string' }, ...s3Options, json: { type: 'boolean' }, ...connection },
  help: {
    dest: 'folder that receives the weights (replaced)',
    's3-url': 'read the weights from this S3 location instead of the one the trial logged',
    's3-endpoint': 'S3 endpoint to use instead of the one the trial logged (e.g. from another network)',
    json: 'print the best.json record',
    ...connectionHelp,
  },
  allowPositionals: true,
};

const runSpec: CommandSpec = {
  usage: 'ocrops sweep run --config <sweep.yaml> [--workers N] [--sweep-id ID] [--resume] [--register <model>]',
  description:
    'Run a hyperparameter sweep: a Comet optimizer config (grid, random or GP-based bayes) plus an `ocrops` section\n' +
    '(train config, workers, fixed overrides, pruner, out). Trials are `ocrops trainer train` child processes tracked\n' +
    'in the tracker server, whose optimizer resource holds the sweep: other machines join with --sweep-id, and an\n' +
    "interrupted sweep continues with --resume (its unfinished trials run again). At the end the best trial's\n" +
    'weights are copied to models/best/ with best.json.',
  options: {
    config: { type: 'string', short: 'c' },
    workers: { type: 'string', short: 'w' },
    'sweep-id': { type: 'string' },
    resume: { type: 'boolean' },
    out: { type: 'string' },
    best: { type: 'string' },
    'max-trials': { type: 'string' },
    'push-weights': { type: 'boolean' },
    ...s3Options,
    'lease-seconds': { type: 'string' },
    register: { type: 'string' },
    ...connection,
  },
  help: {
    config: 'sweep file (YAML or JSON); optional with --sweep-id (the tracker keeps it)',
    workers: 'parallel trials on this machine (default: ocrops.workers)',
    'sweep-id': 'join this existing sweep',
    resume: 'continue the sweep recorded in <out>/sweep.json',
    out: 'sweep folder (default: ocrops.out)',
    best: 'where the best weights go (default: ocrops.best or models/best)',
    'max-trials': 'start at most this many trials in this process',
    'push-weights': "push each completed trial's best weights to S3 (--s3-url or the DVC default remote)",
    ...s3Help,
    'lease-seconds':
      'heartbeat lease on each trial: without a heartbeat for this long it is assigned again (default 60)',
    register: "register the best trial as a new version of this model in the tracker's registry, alias `candidate`",
    ...connectionHelp,
  },
  examples: [
    'ocrops sweep run --config configs/sweep/synthetic.yaml',
    'ocrops sweep run --config configs/sweep/inner-dim.yaml --workers 2',
    'ocrops sweep run --sweep-id 0123abcd... --workers 1       # on another machine',
    'ocrops sweep run --config configs/sweep/synthetic.yaml --resume',
    'ocrops sweep run --config configs/sweep/synthetic.yaml --register vn-address',
  ],
};

const statusSpec: CommandSpec = {
  usage: 'ocrops sweep status --sweep-id ID | --config <sweep.yaml>',
  description: "Show a sweep's trials (status, score, parameters) and its best trial.",
  options: {
    'sweep-id': { type: 'string' },
    config: { type: 'string', short: 'c' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    ...connection,
  },
  help: {
    'sweep-id': 'sweep id',
    config: 'sweep file: the id is read from <out>/sweep.json',
    out: 'sweep folder (default: ocrops.out)',
    json: 'print the raw status JSON',
    ...connectionHelp,
  },
};

function positiveInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new OcropsError('OCROPS_USAGE', `--${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** Runs a sweep until done; the first SIGINT/SIGTERM stops the trials cleanly (released), a second exits at once. */
async function runWithSignals(opts: Omit<RunSweepOptions, 'signal'>): Promise<void> {
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    process.stderr.write(`\n${sig}: stopping the running trials (they are released to the sweep)...\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runSweep({ ...opts, signal: ac.signal });
    if (summary.stopped) process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const commands: CommandTable = {
  run: {
    summary: 'run, join or resume a hyperparameter sweep (parallel workers, pruning, best model)',
    async run(argv) {
      const v = parseCommand(runSpec, argv).values as Record<string, unknown>;
      if (!v.config && !v['sweep-id']) throw new OcropsError('OCROPS_USAGE', `--config or --sweep-id is required`);
      const push = Boolean(v['push-weights']) || v['s3-url'] !== undefined;
      await runWithSignals({
        config: v.config as string | undefined,
        sweepId: v['sweep-id'] as string | undefined,
        resume: Boolean(v.resume),
        workers: positiveInt(v.workers, 'workers'),
        out: v.out as string | undefined,
        best: v.best as string | undefined,
        maxTrials: positiveInt(v['max-trials'], 'max-trials'),
        url: v.url as string | undefined,
        apiKey: v['api-key'] as string | undefined,
        workspace: v.workspace as string | undefined,
        leaseSeconds: positiveInt(v['lease-seconds'], 'lease-seconds'),
        register: v.register as string | undefined,
        weights: push
          ? weightsRemote({ url: v['s3-url'] as string | undefined, endpoint: v['s3-endpoint'] as string | undefined })
          : undefined,
      });
    },
  },
  worker: {
    summary: 'join a sweep from this host: leased trials, heartbeats, weights pushed to S3',
    async run(argv) {
      const v = parseCommand(workerSpec, argv).values as Record<string, unknown>;
      const sweepId = (v.sweep as string | undefined) ?? process.env.OCROPS_SWEEP_ID;
      if (!sweepId)
        throw new OcropsError('OCROPS_USAGE', '--sweep <id> (or OCROPS_SWEEP_ID) is required', {
          hint: helpText(workerSpec),
        });
      await runWithSignals({
        sweepId,
        url: v.tracker as string | undefined,
        apiKey: v['api-key'] as string | undefined,
        workspace: v.workspace as string | undefined,
        workers: positiveInt(v.workers, 'workers') ?? 1,
        out: v.out as string | undefined,
        maxTrials: positiveInt(v['max-trials'], 'max-trials'),
        leaseSeconds: positiveInt(v['lease-seconds'], 'lease-seconds'),
        workerName: v.name as string | undefined,
        weights: weightsRemote({
          url: v['s3-url'] as string | undefined,
          endpoint: v['s3-endpoint'] as string | undefined,
        }),
        publish: false,
      });
    },
  },
  create: {
    summary: 'create a sweep in the tracker and print its id (for `sweep worker` on other hosts)',
    async run(argv) {
      const v = parseCommand(createSpec, argv).values as Record<string, unknown>;
      if (!v.config) throw new OcropsError('OCROPS_USAGE', `--config is required\n\n${helpText(createSpec)}`);
      const file = loadSweepFile(v.config as string);
      const api = new TrackerApi({
        url: v.url as string | undefined,
        apiKey: v['api-key'] as string | undefined,
        workspace: v.workspace as string | undefined,
      });
      const project = file.run.project ?? loadTrainConfig(file.run.train, []).tracker.project;
      console.log(await api.optimizerCreate(file.raw, { projectName: project }));
    },
  },
  best: {
    summary: "download a sweep's best trial weights from S3 (md5-verified) with best.json",
    async run(argv) {
      const p = parseCommand(bestSpec, argv);
      const v = p.values as Record<string, unknown>;
      const [id, ...extra] = p.positionals;
      if (!id || extra.length)
        throw new OcropsError('OCROPS_USAGE', `give exactly one sweep id\n\n${helpText(bestSpec)}`);
      if (!v.dest) throw new OcropsError('OCROPS_USAGE', `--dest <dir> is required\n\n${helpText(bestSpec)}`);
      const api = new TrackerApi({
        url: v.url as string | undefined,
        apiKey: v['api-key'] as string | undefined,
        workspace: v.workspace as string | undefined,
      });
      const st = await api.optimizerStatus(id);
      const w = await bestWeights(api, st, {
        url: v['s3-url'] as string | undefined,
        endpoint: v['s3-endpoint'] as string | undefined,
      });
      if (!w || !st.best) throw noWeightsError(st);
      const b = st.best;
      const spec = (st.config.spec ?? {}) as Record<string, unknown>;
      const record = {
        sweepId: st.id,
        pid: b.pid,
        trial: b.trial,
        parameters: b.parameters,
        metric: String(spec.metric ?? 'loss'),
        objective: spec.objective === 'maximize' ? 'maximize' : 'minimize',
        value: b.score,
        experimentKey: b.experimentKey,
        weights: w.md5,
        remote: `s3://${w.remote.bucket}/${w.remote.prefix}`,
        createdAt: new Date().toISOString(),
      };
      await installBest(w, v.dest as string, record);
      if (v.json) console.log(JSON.stringify(record, null, 2));
      else
        console.log(
          `best trial ${trialDirName(b.pid, b.trial)} ${record.metric}=${b.score} (${w.md5}, md5 verified) -> ${v.dest}/ (best.json)`,
        );
    },
  },
  status: {
    summary: 'show the trials and the best trial of a sweep',
    async run(argv) {
      const v = parseCommand(statusSpec, argv).values as Record<string, unknown>;
      let id = v['sweep-id'] as string | undefined;
      if (!id && v.config) {
        const { loadSweepFile } = await import('./sweep-config.js');
        const { readFileSync, existsSync } = await import('node:fs');
        const { join } = await import('node:path');
        const out = (v.out as string | undefined) ?? loadSweepFile(v.config as string).run.out;
        const p = join(out, 'sweep.json');
        if (!existsSync(p))
          throw new OcropsError('OCROPS_SWEEP_UNKNOWN', `${p} does not exist: the sweep was never started here`);
        id = (JSON.parse(readFileSync(p, 'utf8')) as { sweepId: string }).sweepId;
      }
      if (!id) throw new OcropsError('OCROPS_USAGE', '--sweep-id or --config is required');
      const api = new TrackerApi({
        url: v.url as string | undefined,
        apiKey: v['api-key'] as string | undefined,
        workspace: v.workspace as string | undefined,
      });
      const st = await api.optimizerStatus(id);
      if (v.json) {
        console.log(JSON.stringify(st, null, 2));
        return;
      }
      const spec = (st.config.spec ?? {}) as Record<string, unknown>;
      console.log(
        `sweep ${st.id}${st.name ? ` (${st.name})` : ''}: ${st.state}, ${st.config.algorithm ?? 'bayes'}, ` +
          `${spec.metric ?? 'loss'} ${spec.objective ?? 'minimize'}`,
      );
      for (const t of st.trials) {
        const score = typeof t.score === 'number' ? t.score.toFixed(4) : '-';
        console.log(
          `  ${trialDirName(t.pid, t.trial).padEnd(15)} ${t.status.padEnd(9)} ${score.padStart(9)}  ${JSON.stringify(t.parameters)}`,
        );
      }
      if (st.best)
        console.log(
          `best: ${st.best.pid.slice(0, 12)}-${st.best.trial} ${spec.metric ?? 'loss'}=${st.best.score} ${JSON.stringify(st.best.parameters)}`,
        );
    },
  },
};
