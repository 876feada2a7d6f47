// `ocrops sweep <command>`: run (create, join or resume a sweep) and status.
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { TrackerApi } from '@ocrops/tracker';
import { runSweep, trialDirName } from './runner.js';

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

const runSpec: CommandSpec = {
  usage: 'ocrops sweep run --config <sweep.yaml> [--workers N] [--sweep-id ID] [--resume] [--register <model>]',
  description:
    'Run a hyperparameter sweep: a Comet optimizer config (grid, random or GP-based bayes) plus an `ocrops` section\n' +
    '(train config, workers, fixed overrides, pruner, out). Trials are `ocrops trainer train` child processes tracked\n' +
    'in the tracker server, whose optimizer resource holds the sweep: other machines join with --sweep-id, and an\n' +
    'interrupted sweep continues with --resume (its unfinished trials run again). At the end the best trial\'s\n' +
    'weights are copied to models/best/ with best.json.',
  options: {
    config: { type: 'string', short: 'c' },
    workers: { type: 'string', short: 'w' },
    'sweep-id': { type: 'string' },
    resume: { type: 'boolean' },
    out: { type: 'string' },
    best: { type: 'string' },
    'max-trials': { type: 'string' },
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
    register: 'register the best trial as a new version of this model in the tracker\'s registry, alias `candidate`',
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
  description: 'Show a sweep\'s trials (status, score, parameters) and its best trial.',
  options: { 'sweep-id': { type: 'string' }, config: { type: 'string', short: 'c' }, out: { type: 'string' }, json: { type: 'boolean' }, ...connection },
  help: {
    'sweep-id': 'sweep id', config: 'sweep file: the id is read from <out>/sweep.json', out: 'sweep folder (default: ocrops.out)',
    json: 'print the raw status JSON', ...connectionHelp,
  },
};

function positiveInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new OcropsError('OCROPS_USAGE', `--${flag} must be a positive integer, got '${v}'`);
  return n;
}

export const commands: CommandTable = {
  run: {
    summary: 'run, join or resume a hyperparameter sweep (parallel workers, pruning, best model)',
    async run(argv) {
      const v = parseCommand(runSpec, argv).values as Record<string, unknown>;
      if (!v.config && !v['sweep-id']) throw new OcropsError('OCROPS_USAGE', `--config or --sweep-id is required`);
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
        const summary = await runSweep({
          config: v.config as string | undefined, sweepId: v['sweep-id'] as string | undefined, resume: Boolean(v.resume),
          workers: positiveInt(v.workers, 'workers'), out: v.out as string | undefined, best: v.best as string | undefined,
          maxTrials: positiveInt(v['max-trials'], 'max-trials'), register: v.register as string | undefined, url: v.url as string | undefined,
          apiKey: v['api-key'] as string | undefined, workspace: v.workspace as string | undefined, signal: ac.signal,
        });
        if (summary.stopped) process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
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
        if (!existsSync(p)) throw new OcropsError('OCROPS_SWEEP_UNKNOWN', `${p} does not exist: the sweep was never started here`);
        id = (JSON.parse(readFileSync(p, 'utf8')) as { sweepId: string }).sweepId;
      }
      if (!id) throw new OcropsError('OCROPS_USAGE', '--sweep-id or --config is required');
      const api = new TrackerApi({ url: v.url as string | undefined, apiKey: v['api-key'] as string | undefined, workspace: v.workspace as string | undefined });
      const st = await api.optimizerStatus(id);
      if (v.json) {
        console.log(JSON.stringify(st, null, 2));
        return;
      }
      const spec = (st.config.spec ?? {}) as Record<string, unknown>;
      console.log(`sweep ${st.id}${st.name ? ` (${st.name})` : ''}: ${st.state}, ${st.config.algorithm ?? 'bayes'}, ` +
        `${spec.metric ?? 'loss'} ${spec.objective ?? 'minimize'}`);
      for (const t of st.trials) {
        const score = typeof t.score === 'number' ? t.score.toFixed(4) : '-';
        console.log(`  ${trialDirName(t.pid, t.trial).padEnd(15)} ${t.status.padEnd(9)} ${score.padStart(9)}  ${JSON.stringify(t.parameters)}`);
      }
      if (st.best) console.log(`best: ${st.best.pid.slice(0, 12)}-${st.best.trial} ${spec.metric ?? 'loss'}=${st.best.score} ${JSON.stringify(st.best.parameters)}`);
    },
  },
};
