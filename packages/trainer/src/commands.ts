// CLI commands of @ocrops/trainer, mounted by @ocrops/cli as `ocrops trainer <name>`.
import { basename, join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { loadClassifyDataConfig, loadDataConfig } from '@ocrops/data';
import { savedModelTask, type CtcDecoding } from '@ocrops/model';
import { PARAM_ALIASES, ctcDecodingOf, loadTrainConfig, parseSet, type TrainConfig } from './config.js';
import { evaluate } from './evaluate.js';
import { EXPORT_FORMATS, exportModel, type ExportFormat } from './export.js';
import { predict, resolveModelDir } from './predict.js';
import { predictClasses } from './predict-classify.js';
import { openRun } from './tracking.js';
import { TrainInterrupted, train } from './train.js';

function keyValues(list: string[] | undefined, flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const { value } = parseSet(kv, flag);
    out[kv.slice(0, kv.indexOf('=')).trim()] = value;
  }
  return out;
}

const trainSpec: CommandSpec = {
  usage: 'ocrops trainer train --config <yaml> [--set key=value ...] [--out <dir>] [--resume]',
  description:
    'Train a model as the config says (task: ocr, a CRNN + CTC text-line model, or task: classify, an image classifier),\n' +
    'tracked in the tracker; writes <out>/best/, <out>/result.json,\n' +
    `checkpoints and plots. Aliases for --set: ${Object.entries(PARAM_ALIASES)
      .map(([a, k]) => `${a}=${k}`)
      .join(', ')}.\n` +
    'With OCROPS_EVENTS=1, prints one `@@ocrops-event {json}` line per epoch and at the end. SIGINT/SIGTERM write a\n' +
    'checkpoint and end the tracked run (exit 130/143); --resume continues it.',
  options: {
    config: { type: 'string', short: 'c' },
    set: { type: 'string', multiple: true },
    override: { type: 'string', multiple: true },
    out: { type: 'string', short: 'o' },
    resume: { type: 'boolean' },
    'log-other': { type: 'string', multiple: true },
    'experiment-name': { type: 'string' },
    tag: { type: 'string', multiple: true },
    offline: { type: 'boolean' },
    register: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  help: {
    config: 'train config (configs/train/<name>.yaml)',
    set: 'override a config value: dotted key (optim.lr=0.001) or alias (lr, inner_dim, batch_size, ...); repeatable',
    override: 'same as --set',
    out: "run folder (default: the config's out)",
    resume: 'continue from <out>/checkpoints/last',
    'log-other': 'extra key=value logged to the tracked run (e.g. optimizer_id=...); repeatable',
    'experiment-name': 'experiment name in the tracker (default: the run folder name)',
    tag: 'tag for the tracked run; repeatable',
    offline: 'track offline (spooled; `ocrops tracker sync` delivers it later)',
    register:
      "at the end, register the best model as a new version of this model in the tracker's registry, alias `candidate`",
    quiet: 'no progress bars',
  },
  examples: [
    'ocrops trainer train --config configs/train/synthetic.yaml',
    'ocrops trainer train --config configs/train/vn-handwriting.yaml --set inner_dim=64 --set lr=0.0005 --out runs/vn-64',
    'ocrops trainer train --config configs/train/synthetic.yaml --resume',
    'ocrops trainer train --config configs/train/captcha-v2.yaml --register captcha',
    'ocrops trainer train --config configs/train/butterflies-cnn4.yaml --set train.max_minutes=30',
  ],
};

const evaluateSpec: CommandSpec = {
  usage: 'ocrops trainer evaluate --config <yaml> | --model <dir> --prepared <dir> [options]',
  description:
    'Evaluate a trained model on a split: writes metrics.json (flat dict for `dvc metrics show`), an error report of\n' +
    "the worst lines (reports/errors.json) and the run's per-epoch plots file (for `dvc plots show`). For an image\n" +
    'classifier: top-1/top-5, and a report with per-class precision/recall, the confusion matrix and the most confident mistakes.',
  options: {
    config: { type: 'string', short: 'c' },
    set: { type: 'string', multiple: true },
    model: { type: 'string' },
    prepared: { type: 'string' },
    run: { type: 'string' },
    split: { type: 'string', default: 'test' },
    metrics: { type: 'string', default: 'metrics.json' },
    errors: { type: 'string', default: 'reports/errors.json' },
    plots: { type: 'string' },
    worst: { type: 'string', default: '50' },
    'batch-size': { type: 'string', default: '32' },
    beam: { type: 'string' },
    'no-lm': { type: 'boolean' },
    'experiment-key': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  help: {
    config: 'train config: gives the run folder (its best/ model, plots.json) and the prepared data',
    set: 'config overrides as for train (e.g. to pick the same --out)',
    model: 'model folder (default: <out>/best of the config)',
    prepared: "prepared dataset folder (default: from the config's data config)",
    run: "run folder holding plots.json (default: the config's out)",
    split: 'train, val or test',
    metrics: 'metrics file to write',
    errors: 'error report to write',
    plots: 'per-epoch plots file to write (default: plots/<run name>.json)',
    worst: 'lines kept in the error report',
    'batch-size': 'lines per batch',
    beam: "beam search width, 1 = greedy (default: the config's decode, else the model's, else greedy)",
    'no-lm': "beam search without the decoding's language model (decode.lm)",
    'experiment-key': "also log the results to this tracked run (default: the run's, from result.json)",
    quiet: 'no progress bar',
  },
  examples: ['ocrops trainer evaluate --config configs/train/synthetic.yaml'],
};

const predictSpec: CommandSpec = {
  usage: 'ocrops trainer predict [--model <dir> | --weights <file.dvc|output>] <image|folder>...',
  description:
    'Read text lines from image files or folders; prints `path<TAB>text<TAB>confidence` (or JSON). With an image ' +
    'classifier: `path<TAB>label<TAB>probability`, repeated for each of the --top classes.',
  allowPositionals: true,
  options: {
    model: { type: 'string', short: 'm', default: 'models/best' },
    weights: { type: 'string' },
    json: { type: 'boolean' },
    'batch-size': { type: 'string', default: '16' },
    beam: { type: 'string' },
    'no-lm': { type: 'boolean' },
    top: { type: 'string', default: '1' },
  },
  help: {
    model: 'model folder (pulled from DVC storage if missing)',
    weights: 'DVC record of the weights: a .dvc file or an output path in dvc.lock (used when --model is missing)',
    json: 'print a JSON array instead of lines',
    'batch-size': 'images per batch',
    beam: 'beam search width, 1 = greedy (default: the decoding the model was validated with)',
    'no-lm': "beam search without the model's language model (decode.lm)",
    top: 'image classifiers: the most probable classes to print per image',
  },
  examples: [
    'ocrops trainer predict --model runs/captcha-v2/best ../shared/datasets/captcha-v2/images/22d5n.png',
    'ocrops trainer predict --model runs/butterflies/best --top 5 photo.jpg',
  ],
};

const exportSpec: CommandSpec = {
  usage:
    'ocrops trainer export --model <run or model dir> --out <dir> [--format onnx|tfjs] [--keep-batch-norm] [--beam N] [--top-k K]',
  description:
    'Write a self-contained model folder. --format onnx (default): model.onnx (standard ONNX, opset 17, dynamic batch\n' +
    'and width; input `image` NHWC float32, output `logits` [batch, frames, classes]) for any ONNX runtime. Both formats\n' +
    "also write ocrops's own TensorFlow.js weights (model.json + weights.bin + ocrops.json, loaded by ocrops / @ocrops/model\n" +
    'loadModel, not by tf.loadLayersModel or tf.loadGraphModel), ocrops-model.json (the preprocessing and decoding\n' +
    'contract: charset, input height/channels, normalisation, width rules, blank, decoding), the training summary and a README.\n' +
    'An image classifier (task classify) exports the same files; its graph outputs `probabilities` and `logits`\n' +
    '[batch, classes] and its contract names the classes, the fixed input size and the default top-k.',
  options: {
    model: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    format: { type: 'string', short: 'f' },
    'keep-batch-norm': { type: 'boolean' },
    beam: { type: 'string' },
    'no-lm': { type: 'boolean' },
    'top-k': { type: 'string' },
  },
  help: {
    model: 'run folder (runs/<name>) or model folder',
    out: 'folder to write',
    format: 'onnx (default) or tfjs',
    'keep-batch-norm': 'onnx: keep BatchNormalization nodes instead of folding them into the convolutions',
    beam: "decoding recorded in the contract: CTC beam search of this width, 1 = greedy (default: the model's)",
    'no-lm': "record the decoding without the model's language model (lm.json is then not copied)",
    'top-k': 'image classifiers: how many classes a server returns by default (default 5)',
  },
  examples: [
    'ocrops trainer export --model runs/synthetic --out models/export/synthetic',
    'ocrops trainer export --model runs/captcha-v2 --out models/export/captcha --format tfjs',
  ],
};

type Values = Record<string, string | boolean | string[] | undefined>;

/** parseCommand with the values typed loosely (each command reads its own options). */
function parse(spec: CommandSpec, argv: string[]): { v: Values; positionals: string[] } {
  const r = parseCommand(spec, argv);
  return { v: r.values as Values, positionals: r.positionals };
}

function intOpt(v: string | undefined, flag: string, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new OcropsError('OCROPS_USAGE', `--${flag} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** Registers a finished run's best model (its `<out>` folder) as a new version with alias `candidate`. */
async function registerRun(cfg: TrainConfig, modelName: string): Promise<void> {
  const { ModelRegistry, TrackerApi, registerSource } = await import('@ocrops/tracker');
  const api = new TrackerApi({
    url: cfg.tracker.url,
    apiKey: cfg.tracker.apiKey,
    workspace: process.env.COMET_WORKSPACE ?? cfg.tracker.workspace,
  });
  const r = await registerSource(cfg.out, { registry: new ModelRegistry(api), modelName, aliases: ['candidate'] });
  process.stderr.write(`registered ${r.modelName}:${r.version} (@candidate); weights ${r.weights.md5}\n`);
}

/** `ocrops trainer <name>` commands. */
export const commands: CommandTable = {
  train: {
    summary: 'train a model from a train config (tracked, checkpointed, resumable)',
    async run(argv) {
      const { v } = parse(trainSpec, argv);
      if (!v.config) throw new OcropsError('OCROPS_USAGE', '--config is required');
      const cfg = loadTrainConfig(
        v.config as string,
        [...((v.set as string[]) ?? []), ...((v.override as string[]) ?? [])],
        {
          out: v.out as string | undefined,
        },
      );
      if (v['experiment-name']) cfg.name = v['experiment-name'] as string;
      if (v.offline) cfg.tracker.offline = true;
      if (v.register && (!cfg.tracker.enabled || cfg.tracker.offline))
        throw new OcropsError(
          'OCROPS_USAGE',
          '--register needs a tracked, online run (tracker.enabled true, no --offline)',
        );
      try {
        await train(cfg, {
          resume: Boolean(v.resume),
          handleSignals: true,
          quiet: Boolean(v.quiet),
          logOther: keyValues(v['log-other'] as string[] | undefined, '--log-other'),
          tags: v.tag as string[] | undefined,
        });
        if (v.register) await registerRun(cfg, v.register as string);
      } catch (err) {
        if (err instanceof TrainInterrupted) {
          process.stderr.write(`${err.message}\n  hint: ${err.hint}\n`);
          process.exit(err.signal === 'SIGINT' ? 130 : 143);
        }
        throw err;
      }
    },
  },
  evaluate: {
    summary: 'evaluate a model: metrics.json, reports/errors.json, plots/<run>.json',
    async run(argv) {
      const { v } = parse(evaluateSpec, argv);
      const split = v.split as string;
      if (!['train', 'val', 'test'].includes(split))
        throw new OcropsError('OCROPS_USAGE', `--split must be train, val or test, got '${split}'`);
      let modelDir = v.model as string | undefined;
      let prepared = v.prepared as string | undefined;
      let runDir = v.run as string | undefined;
      let decode: CtcDecoding | undefined;
      if (v.config) {
        const cfg = loadTrainConfig(v.config as string, (v.set as string[]) ?? []);
        decode = ctcDecodingOf(cfg.decode);
        modelDir ??= join(cfg.out, 'best');
        prepared ??=
          cfg.prepared ??
          (cfg.task === 'classify' ? loadClassifyDataConfig(cfg.data).outDir : loadDataConfig(cfg.data).output);
        runDir ??= cfg.out;
      }
      if (!modelDir || !prepared) {
        throw new OcropsError('OCROPS_USAGE', 'give --config, or both --model and --prepared');
      }
      const plotsFrom = runDir ? join(resolve(runDir), 'plots.json') : undefined;
      const plotsTo =
        (v.plots as string | undefined) ?? (runDir ? join('plots', `${basename(resolve(runDir))}.json`) : undefined);
      let run;
      const resultPath = runDir ? join(runDir, 'result.json') : undefined;
      let key = v['experiment-key'] as string | undefined;
      if (!key && resultPath && existsSync(resultPath)) {
        key = (JSON.parse(readFileSync(resultPath, 'utf8')) as { experimentKey?: string }).experimentKey;
      }
      if (key && v.config) {
        const cfg = loadTrainConfig(v.config as string, (v.set as string[]) ?? []);
        if (cfg.tracker.enabled) {
          try {
            run = await openRun(cfg.tracker, { name: cfg.name, experimentKey: key });
          } catch (err) {
            process.stderr.write(
              `warning: cannot log the evaluation to experiment ${key}: ${(err as Error).message}\n`,
            );
          }
        }
      }
      const res = await evaluate({
        modelDir: resolve(modelDir),
        preparedDir: resolve(prepared),
        split: split as 'test',
        batchSize: intOpt(v['batch-size'] as string, 'batch-size'),
        // the config's decode, else the decode the model was trained with (its ocrops.json); --beam, --no-lm change it
        decode,
        beam: intOpt(v.beam as string | undefined, 'beam'),
        lm: !v['no-lm'],
        metricsPath: resolve(v.metrics as string),
        errorsPath: resolve(v.errors as string),
        worst: intOpt(v.worst as string, 'worst', 0),
        plots: plotsFrom && plotsTo && existsSync(plotsFrom) ? { from: plotsFrom, to: resolve(plotsTo) } : undefined,
        run,
        quiet: Boolean(v.quiet),
      });
      if (run) await run.end();
      console.log(JSON.stringify(res.metrics, null, 2));
    },
  },
  predict: {
    summary: 'read text (or classify images) from image files or folders with a trained model',
    async run(argv) {
      const { v, positionals } = parse(predictSpec, argv);
      if (positionals.length === 0) throw new OcropsError('OCROPS_USAGE', 'give at least one image file or folder');
      const modelDir = await resolveModelDir(
        { model: v.model as string, weights: v.weights as string | undefined },
        (m) => process.stderr.write(`${m}\n`),
      );
      const batchSize = intOpt(v['batch-size'] as string, 'batch-size');
      if ((await savedModelTask(modelDir)) === 'classify') {
        const preds = await predictClasses({
          modelDir,
          inputs: positionals,
          batchSize,
          topK: intOpt(v.top as string, 'top'),
        });
        if (v.json) console.log(JSON.stringify(preds, null, 2));
        for (const p of v.json ? [] : preds) {
          if (p.error) process.stderr.write(`${p.path}: unreadable image: ${p.error}\n`);
          else console.log([p.path, ...p.top.flatMap((t) => [t.label, t.p.toFixed(4)])].join('\t'));
        }
        if (preds.some((p) => p.error)) process.exitCode = 1;
        return;
      }
      const preds = await predict({
        modelDir,
        inputs: positionals,
        batchSize,
        beam: intOpt(v.beam as string | undefined, 'beam'),
        lm: !v['no-lm'],
      });
      if (v.json) console.log(JSON.stringify(preds, null, 2));
      else {
        for (const p of preds) {
          if (p.error) process.stderr.write(`${p.path}: unreadable image: ${p.error}\n`);
          else console.log(`${p.path}\t${p.text}\t${p.confidence.toFixed(4)}`);
        }
      }
      if (preds.some((p) => p.error)) process.exitCode = 1;
    },
  },
  export: {
    summary: 'write a self-contained model folder: ONNX (default) or ocrops tfjs weights, plus ocrops-model.json',
    async run(argv) {
      const { v } = parse(exportSpec, argv);
      if (!v.model || !v.out) throw new OcropsError('OCROPS_USAGE', '--model and --out are required');
      const format = (v.format as string | undefined) ?? 'onnx';
      if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
        throw new OcropsError('OCROPS_USAGE', `--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${format}'`);
      }
      const { dir, files } = await exportModel({
        model: v.model as string,
        out: v.out as string,
        format: format as ExportFormat,
        foldBatchNorm: !v['keep-batch-norm'],
        beam: intOpt(v.beam as string | undefined, 'beam'),
        lm: !v['no-lm'],
        topK: intOpt(v['top-k'] as string | undefined, 'top-k'),
      });
      process.stderr.write(`wrote ${files.join(', ')}\n`);
      console.log(dir);
    },
  },
};
