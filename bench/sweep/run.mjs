#!/usr/bin/env node
// Sweep benchmark: median simple regret after 20 and 50 evaluations over 20 seeds on Branin, Hartmann-6 and a noisy
// discrete inner_dim-like function, for ocrops bayes and random and Optuna's TPE and GP samplers, in the same run;
// plus the time ocrops bayes takes to propose a point after 100 evaluations.
// Usage: node bench/sweep/run.mjs [--seeds 20] [--evals 50] [--no-optuna] [--out bench/results]
// Writes <out>/sweep.json and <out>/sweep.md and prints the table.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reexecUnderTsx } from '../tsx.mjs';
import { cpus, loadavg } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

reexecUnderTsx(import.meta.url);

const { values: opt } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    evals: { type: 'string', default: '50' },
    'no-optuna': { type: 'boolean', default: false },
    'timing-only': { type: 'boolean', default: false },
    'gp-seeds': { type: 'string' },
    out: { type: 'string', default: join(root, 'bench', 'results') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log(
    'Usage: node bench/sweep/run.mjs [--seeds 20] [--evals 50] [--gp-seeds N] [--no-optuna] [--timing-only] [--out bench/results]',
  );
  process.exit(0);
}
const SEEDS = Number(opt.seeds);
/** Seeds for Optuna's GP sampler, by far the slowest peer (default: all). */
const GP_SEEDS = Number(opt['gp-seeds'] ?? opt.seeds);
const EVALS = Number(opt.evals);
const CHECKPOINTS = [20, 50].filter((k) => k <= EVALS);

const { optimizerAlgorithm, Rng } = await import('@ocrops/search');
const { FUNCTIONS, observe } = await import('./functions.mjs');
const PY_NAMES = { branin: 'branin', hartmann6: 'hartmann6', 'inner_dim (noisy, discrete)': 'inner_dim' };

/** Simple regret after k evaluations: truth at the best observed point minus the global minimum. */
function regretAt(run, k, min) {
  let bi = 0;
  for (let i = 1; i < Math.min(k, run.observed.length); i++) if (run.observed[i] < run.observed[bi]) bi = i;
  return run.truths[bi] - min;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function runOcrops(fn, algorithm, seed) {
  const cfg = { algorithm, spec: { metric: 'value', objective: 'minimize', seed }, parameters: fn.params };
  const noise = new Rng(1000 + seed);
  const trials = [];
  const truths = [];
  const observed = [];
  for (let i = 0; i < EVALS; i++) {
    const [p] = optimizerAlgorithm.suggest(cfg, trials, 1);
    if (!p) break;
    const y = observe(fn, p, () => noise.next());
    trials.push({ pid: String(i), trial: 1, parameters: p, status: 'completed', score: y });
    truths.push(fn.truth(p));
    observed.push(y);
  }
  return { seed, truths, observed };
}

function runPython(sampler, fn, seeds) {
  const py = join(root, '.venv-bench', 'bin', 'python');
  return new Promise((res) => {
    if (!existsSync(py)) return res({ error: `${py} missing (scripts/setup --bench)` });
    const args = [
      join(here, 'optuna_peer.py'),
      '--sampler',
      sampler,
      '--function',
      PY_NAMES[fn.name],
      '--seeds',
      String(seeds),
      '--evals',
      String(EVALS),
    ];
    const child = spawn(py, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return res({ error: `optuna ${sampler} exited ${code}: ${err.trim().split('\n').pop()}` });
      res(JSON.parse(out));
    });
  });
}

if (opt['timing-only']) {
  // only the propose-time figure (prints it; leaves the result files alone)
  const { FUNCTIONS: F } = await import('./functions.mjs');
  const t = [0, 1, 2, 3, 4].map((s) => proposeTiming(F[1], s));
  console.log(
    JSON.stringify({
      coldMs: median(t.map((x) => x.cold)),
      warmMs: median(t.map((x) => x.warm)),
      coldCpuMs: median(t.map((x) => x.coldCpu)),
      warmCpuMs: median(t.map((x) => x.warmCpu)),
      timings: t,
    }),
  );
  process.exit(0);
}
const started = Date.now();
// Optuna peers run in background processes while ocrops runs here: TPE one function after another, the (slow) GP
// sampler one process per function
const optunaJobs = opt['no-optuna']
  ? Promise.resolve([])
  : Promise.all([
      (async () => {
        const out = [];
        for (const fn of FUNCTIONS) out.push({ fn: fn.name, sampler: 'tpe', ...(await runPython('tpe', fn, SEEDS)) });
        return out;
      })(),
      ...FUNCTIONS.map(async (fn) => [{ fn: fn.name, sampler: 'gp', ...(await runPython('gp', fn, GP_SEEDS)) }]),
    ]).then((xs) => xs.flat());

const results = {};
for (const fn of FUNCTIONS) {
  results[fn.name] = {};
  for (const algorithm of ['bayes', 'random']) {
    const t0 = Date.now();
    const runs = [];
    for (let seed = 0; seed < SEEDS; seed++) runs.push(runOcrops(fn, algorithm, seed));
    results[fn.name][`ocrops ${algorithm}`] = { runs, seconds: (Date.now() - t0) / 1000 };
    console.error(`ocrops ${algorithm} on ${fn.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
for (const r of await optunaJobs) {
  const name = r.sampler === 'tpe' ? 'optuna TPE' : 'optuna GP';
  results[r.fn][name] = r.error ? { error: r.error } : { runs: r.runs, seconds: r.seconds, seeds: r.runs.length };
  console.error(`${name} on ${r.fn}: ${r.error ?? `${r.seconds.toFixed(1)} s`}`);
}

// time to propose after 100 evaluations (Hartmann-6, the largest space), measured after the other runs finished
function proposeTiming(fn, seed) {
  const rng = new Rng(seed);
  const trials = [];
  for (let i = 0; i < 100; i++) {
    const p = {};
    for (const k of Object.keys(fn.params)) {
      const s = fn.params[k];
      p[k] = s.min + rng.next() * (s.max - s.min);
    }
    trials.push({ pid: String(i), trial: 1, parameters: p, status: 'completed', score: fn.truth(p) });
  }
  const cfg = { algorithm: 'bayes', spec: { metric: 'value', seed: 100 + seed }, parameters: fn.params };
  // wall time, and CPU time of this (single-threaded) process, which a busy shared machine inflates far less
  const cpuMs = (u) => (u.user + u.system) / 1000;
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  optimizerAlgorithm.suggest(cfg, trials, 1);
  const cold = performance.now() - t0;
  const coldCpu = cpuMs(process.cpuUsage(c0));
  t0 = performance.now();
  c0 = process.cpuUsage();
  optimizerAlgorithm.suggest(cfg, trials, 1);
  const warm = performance.now() - t0;
  const warmCpu = cpuMs(process.cpuUsage(c0));
  return { cold, warm, coldCpu, warmCpu };
}
const timings = [0, 1, 2, 3, 4].map((s) => proposeTiming(FUNCTIONS[1], s));
const proposeMs = {
  cold: median(timings.map((t) => t.cold)),
  warm: median(timings.map((t) => t.warm)),
  coldCpu: median(timings.map((t) => t.coldCpu)),
  warmCpu: median(timings.map((t) => t.warmCpu)),
};

const summary = {};
for (const [fname, methods] of Object.entries(results)) {
  const fn = FUNCTIONS.find((f) => f.name === fname);
  summary[fname] = {};
  for (const [m, r] of Object.entries(methods)) {
    if (r.error) {
      summary[fname][m] = { error: r.error };
      continue;
    }
    summary[fname][m] = { seconds: r.seconds, seeds: r.runs.length };
    for (const k of CHECKPOINTS)
      summary[fname][m][`regret@${k}`] = median(r.runs.map((run) => regretAt(run, k, fn.min)));
  }
}

const fmt = (v) => (v === undefined ? '-' : v === 0 ? '0' : Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4));
const methods = ['ocrops bayes', 'ocrops random', 'optuna TPE', 'optuna GP'];
const lines = [
  `# Sweep benchmark`,
  '',
  `Median simple regret (true value at the best observed point minus the global minimum) over ${SEEDS} seeds` +
    (GP_SEEDS !== SEEDS ? ` (Optuna GP: ${GP_SEEDS}, it is slow on a shared 2-core machine)` : '') +
    ';',
  `each method ran in the same process run (${new Date().toISOString()}, ${Math.round((Date.now() - started) / 1000)} s wall).`,
  '',
  `| function | method | ${CHECKPOINTS.map((k) => `regret@${k}`).join(' | ')} | seeds | seconds (all seeds) |`,
  `|---|---|${CHECKPOINTS.map(() => '---:').join('|')}|---:|---:|`,
];
for (const fname of Object.keys(summary)) {
  for (const m of methods) {
    const s = summary[fname][m];
    if (!s) continue;
    if (s.error) lines.push(`| ${fname} | ${m} | ${s.error} |`);
    else
      lines.push(
        `| ${fname} | ${m} | ${CHECKPOINTS.map((k) => fmt(s[`regret@${k}`])).join(' | ')} | ${s.seeds} | ${s.seconds.toFixed(1)} |`,
      );
  }
}
const verdict = Object.entries(summary).map(([fname, s]) => {
  const b = s['ocrops bayes'];
  const t = s['optuna TPE'];
  if (!t || t.error) return `${fname}: no TPE result`;
  const ok = CHECKPOINTS.every((k) => b[`regret@${k}`] <= t[`regret@${k}`]);
  return `${fname}: ocrops bayes ${ok ? '<=' : '>'} TPE at ${CHECKPOINTS.join(' and ')} evaluations`;
});
lines.push('', `Goal (bayes at or below TPE on each function): ${verdict.join('; ')}.`);
lines.push(
  '',
  `Time for ocrops bayes to propose one point after 100 evaluations (Hartmann-6, median of 5): ` +
    `${proposeMs.cold.toFixed(1)} ms wall / ${proposeMs.coldCpu.toFixed(1)} ms CPU on a fresh process cache, ` +
    `${proposeMs.warm.toFixed(1)} ms wall / ${proposeMs.warmCpu.toFixed(1)} ms CPU with the previous fit as warm start, as in ` +
    `a long-running tracker server (goal < 100 ms; CPU time is what an idle core would take, the wall time includes waiting ` +
    `for the shared CPUs; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores at the end).`,
);
const md = lines.join('\n') + '\n';
mkdirSync(opt.out, { recursive: true });
writeFileSync(join(opt.out, 'sweep.md'), md);
writeFileSync(
  join(opt.out, 'sweep.json'),
  JSON.stringify(
    {
      seeds: SEEDS,
      evals: EVALS,
      summary,
      proposeMs,
      timings,
      results: Object.fromEntries(
        Object.entries(results).map(([f, ms]) => [
          f,
          Object.fromEntries(
            Object.entries(ms).map(([m, r]) => [
              m,
              r.error ? r : { seconds: r.seconds, runs: r.runs.map((x) => ({ seed: x.seed, truths: x.truths })) },
            ]),
          ),
        ]),
      ),
    },
    null,
    1,
  ),
);
console.log(md);
