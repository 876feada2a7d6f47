// `ocrops models <command>`: the model registry from the command line (register, list, versions, alias, pull,
// delete-alias), and `registerSource`, which the trainer and the sweep call for `--register <model>`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { dirManifestMd5, findDvcRoot, hashDirectory, objectKey, readS3Remote } from '@ocrops/versioning';
import { TrackerApi } from './client/api.js';
import {
  ModelRegistry,
  downloadVersion,
  parseModelRef,
  type RegisterOptions,
  type RegistryVersion,
} from './client/registry.js';

const connection = { url: { type: 'string' }, 'api-key': { type: 'string' }, workspace: { type: 'string' } } as const;
const connectionHelp = {
  url: 'tracker server (default: COMET_URL_OVERRIDE or http://127.0.0.1:5959)',
  'api-key': 'API key (default: COMET_API_KEY or .ocrops/tracker/default-key)',
  workspace: 'workspace (default: COMET_WORKSPACE or "default")',
};

/** Files a sweep adds beside the best trial's weights in models/best (not part of the run's model). */
const SIDECARS = new Set(['best.json', 'plots.json']);

/** Where the weights of a registration come from, read from a run key or a local folder. */
export interface RegistrationSource {
  experimentKey: string;
  /** md5 of the local weights (model files only), checked by the server against the run's `model_md5`. */
  weightsMd5?: string;
  /** The folder as a DVC output: its path in the repository, its DVC md5 and its S3 location. */
  dvc?: { path: string; md5: string; remote?: string };
}

function readJson(path: string): Record<string, any> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OcropsError('OCROPS_REGISTRY_SOURCE', `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The folder as a DVC output of the repository holding it (undefined outside one); S3 location when configured. */
async function dvcLocation(folder: string): Promise<RegistrationSource['dvc']> {
  let root: string;
  try {
    root = findDvcRoot(folder);
  } catch {
    return undefined;
  }
  const md5 = dirManifestMd5(await hashDirectory(folder));
  let remote: string | undefined;
  try {
    const r = readS3Remote(root);
    remote = `s3://${r.bucket}/${objectKey(r.prefix, md5)}`;
  } catch {
    remote = undefined;
  }
  return { path: relative(root, folder).split('\\').join('/'), md5, remote };
}

/**
 * Reads what to register from `run`: an experiment key (32 hex), a training run folder (`result.json`, weights in
 * `best/`) or a sweep's best folder (`best.json` beside the weights). The local weights are hashed (without best.json
 * and plots.json) and must match the md5 the run recorded.
 */
export async function registrationSource(run: string): Promise<RegistrationSource> {
  if (/^[0-9a-f]{32}$/.test(run)) return { experimentKey: run };
  const dir = resolve(run);
  const record = existsSync(join(dir, 'best.json'))
    ? readJson(join(dir, 'best.json'))
    : existsSync(join(dir, 'result.json'))
      ? readJson(join(dir, 'result.json'))
      : undefined;
  if (!record)
    throw new OcropsError(
      'OCROPS_REGISTRY_SOURCE',
      `--run ${run} is neither an experiment key nor a folder with best.json or result.json`,
      {
        hint: 'give a run folder (runs/<name>), a sweep best folder (models/best) or the 32-hex experiment key',
      },
    );
  if (typeof record.experimentKey !== 'string')
    throw new OcropsError(
      'OCROPS_REGISTRY_SOURCE',
      `${run}: its ${existsSync(join(dir, 'best.json')) ? 'best.json' : 'result.json'} has no experimentKey (the run was not tracked)`,
    );
  const weightsDir = existsSync(join(dir, 'best.json')) ? dir : join(dir, 'best');
  if (!existsSync(weightsDir))
    throw new OcropsError('OCROPS_REGISTRY_SOURCE', `${weightsDir} does not exist: the run saved no best model`);
  const files = (await hashDirectory(weightsDir)).filter((f) => !(weightsDir === dir && SIDECARS.has(f.relpath)));
  const weightsMd5 = dirManifestMd5(files);
  const recorded = record.lineage?.modelMd5;
  if (recorded && recorded !== weightsMd5)
    throw new OcropsError(
      'OCROPS_REGISTRY_WEIGHTS_CHANGED',
      `${weightsDir} hashes to ${weightsMd5}, but the run recorded model_md5 ${recorded}`,
      {
        hint: 'the weights were changed after training: register the run by its experiment key, or restore the folder',
      },
    );
  return { experimentKey: record.experimentKey, weightsMd5, dvc: await dvcLocation(weightsDir) };
}

/** Registers `run` (see registrationSource) as a new version of `modelName`. */
export async function registerSource(
  run: string,
  opts: Omit<RegisterOptions, 'experimentKey' | 'weightsMd5' | 'dvc'> & { registry?: ModelRegistry },
): Promise<RegistryVersion> {
  const src = await registrationSource(run);
  const { registry, ...rest } = opts;
  return (registry ?? new ModelRegistry()).register({ ...rest, ...src });
}

/** The numbers of a flat JSON metrics file (`dvc metrics` format); nested values are flattened with `.`. */
function evaluationOf(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (o: unknown, prefix: string) => {
    if (typeof o === 'number' && Number.isFinite(o)) out[prefix] = o;
    else if (o && typeof o === 'object' && !Array.isArray(o))
      for (const [k, v] of Object.entries(o)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(readJson(path), '');
  if (!Object.keys(out).length)
    throw new OcropsError('OCROPS_REGISTRY_SOURCE', `--metrics ${path} holds no numbers`, {
      hint: 'give the metrics.json written by `ocrops trainer evaluate`',
    });
  return out;
}

function registryOf(v: Record<string, unknown>): ModelRegistry {
  return new ModelRegistry(
    new TrackerApi({
      url: v.url as string | undefined,
      apiKey: v['api-key'] as string | undefined,
      workspace: v.workspace as string | undefined,
    }),
  );
}

function tagsOf(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i < 1) throw new OcropsError('OCROPS_USAGE', `--tag '${kv}' is not of the form key=value`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function positionals(spec: CommandSpec, argv: string[], names: string[]): { v: Record<string, unknown>; p: string[] } {
  const r = parseCommand(spec, argv);
  if (r.positionals.length !== names.length)
    throw new OcropsError(
      'OCROPS_USAGE',
      `expected ${names.map((n) => `<${n}>`).join(' ')}, got ${r.positionals.length} argument(s)\n\nUsage: ${spec.usage}`,
    );
  return { v: r.values as Record<string, unknown>, p: r.positionals };
}

const fmtMetric = (m: RegistryVersion['metrics'][string] | undefined) =>
  m?.last === null || m?.last === undefined ? '-' : m.last.toPrecision(4);

const specs = {
  register: {
    usage:
      'ocrops models register --run <key|folder> --name <model> [--alias a ...] [--tag k=v ...] [--version v] [--description text]',
    description:
      "Registers a run's best model as a new version of <model> (created on first use). --run takes an experiment key, a\n" +
      'run folder (result.json) or a sweep best folder (best.json); the local weights must hash to what the run logged.\n' +
      'The version records the run, weights md5 (and DVC/S3 location), formats, metrics and lineage.',
    options: {
      run: { type: 'string' },
      name: { type: 'string', short: 'n' },
      alias: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      version: { type: 'string' },
      description: { type: 'string' },
      metrics: { type: 'string' },
      record: { type: 'string' },
      ...connection,
    },
    help: {
      run: 'experiment key, run folder or models/best',
      name: 'registered model name (letters, digits, . _ -)',
      alias: 'alias to point at the new version (champion, candidate, ...); repeatable',
      tag: 'key=value tag of the version; repeatable',
      version: 'version string (default: the next number)',
      description: 'description of the version',
      metrics:
        'JSON file of evaluation metrics of these weights (a flat dict, e.g. metrics.json) recorded with the version',
      record: 'write the registered version (JSON) to this file',
      ...connectionHelp,
    },
    examples: [
      'ocrops models register --run models/best --name vn-address --alias candidate',
      'ocrops models register --run runs/captcha --name captcha --tag data=captcha-v2',
    ],
  },
  list: {
    usage: 'ocrops models list',
    description: 'Lists the registered models with their version counts and aliases.',
    options: { json: { type: 'boolean' }, ...connection },
    help: { json: 'print JSON', ...connectionHelp },
  },
  versions: {
    usage: 'ocrops models versions <model>',
    description: "Lists a model's versions: aliases, source run, metrics, weights md5, lineage.",
    allowPositionals: true,
    options: { json: { type: 'boolean' }, ...connection },
    help: { json: 'print JSON', ...connectionHelp },
  },
  alias: {
    usage: 'ocrops models alias <model> <version> <alias>',
    description: 'Points <alias> at <version> (moving it from another version; the move is recorded).',
    allowPositionals: true,
    options: { ...connection },
    help: { ...connectionHelp },
    examples: ['ocrops models alias vn-address 7 champion', 'ocrops models alias vn-address 6 champion   # roll back'],
  },
  'delete-alias': {
    usage: 'ocrops models delete-alias <model> <alias>',
    description: 'Removes an alias from a model.',
    allowPositionals: true,
    options: { ...connection },
    help: { ...connectionHelp },
  },
  pull: {
    usage: 'ocrops models pull <model>@<alias>|<model>:<version> --dest <dir>',
    description:
      "Downloads a version's weights from the tracker into <dir> (replaced), checking every file's md5 and the folder's DVC md5.",
    allowPositionals: true,
    options: { dest: { type: 'string', short: 'd' }, ...connection },
    help: { dest: 'destination folder', ...connectionHelp },
    examples: [
      'ocrops models pull vn-address@champion --dest /tmp/champion',
      'ocrops models pull registry:vn-address:3 --dest /tmp/v3',
    ],
  },
} satisfies Record<string, CommandSpec>;

export const modelsCommands: CommandTable = {
  register: {
    summary: "register a run's model as a new version (aliases, tags)",
    async run(argv) {
      const v = parseCommand(specs.register, argv).values as Record<string, unknown>;
      if (!v.run || !v.name)
        throw new OcropsError('OCROPS_USAGE', `--run and --name are required\n\nUsage: ${specs.register.usage}`);
      const r = await registerSource(v.run as string, {
        registry: registryOf(v),
        modelName: v.name as string,
        aliases: v.alias as string[] | undefined,
        tags: tagsOf(v.tag as string[] | undefined),
        version: v.version as string | undefined,
        description: v.description as string | undefined,
        evaluation: v.metrics ? evaluationOf(v.metrics as string) : undefined,
      });
      if (v.record) {
        mkdirSync(dirname(resolve(v.record as string)), { recursive: true });
        const { weights, ...rest } = r;
        writeFileSync(
          v.record as string,
          `${JSON.stringify({ ...rest, weights: { md5: weights.md5, bytes: weights.bytes, dvc: weights.dvc } }, null, 2)}\n`,
        );
      }
      console.log(
        `registered ${r.modelName}:${r.version}${r.aliases.length ? ` (${r.aliases.map((a) => `@${a}`).join(', ')})` : ''} from run ${r.experimentKey}; weights ${r.weights.md5}`,
      );
    },
  },
  list: {
    summary: 'list registered models',
    async run(argv) {
      const v = parseCommand(specs.list, argv).values as Record<string, unknown>;
      const models = await registryOf(v).models();
      if (v.json) return void console.log(JSON.stringify(models, null, 2));
      if (!models.length) return void console.log('no registered models');
      for (const m of models) {
        const aliases = Object.entries(m.aliases)
          .map(([a, ver]) => `@${a}=${ver}`)
          .join(' ');
        console.log(
          `${m.modelName.padEnd(24)} ${String(m.numberOfVersions).padStart(3)} version(s), latest ${m.latestVersion ?? '-'}  ${aliases}`,
        );
      }
    },
  },
  versions: {
    summary: "list a model's versions with metrics and lineage",
    async run(argv) {
      const { v, p } = positionals(specs.versions, argv, ['model']);
      const { versions } = await registryOf(v).model(p[0]);
      if (v.json) return void console.log(JSON.stringify(versions, null, 2));
      for (const x of versions) {
        console.log(
          `${x.version.padEnd(8)} ${x.aliases
            .map((a) => `@${a}`)
            .join(',')
            .padEnd(22)} run ${x.experimentKey.slice(0, 12)}  ` +
            `val_acc_by_char ${fmtMetric(x.metrics.val_acc_by_char)}  weights ${x.weights.md5}  data ${x.lineage.datasetMd5 ?? '-'}  ` +
            `git ${x.lineage.gitCommit?.slice(0, 12) ?? '-'}${x.lineage.gitDirty ? '+dirty' : ''}`,
        );
      }
    },
  },
  alias: {
    summary: 'point an alias at a version (move / roll back)',
    async run(argv) {
      const { v, p } = positionals(specs.alias, argv, ['model', 'version', 'alias']);
      const r = await registryOf(v).setAlias(p[0], p[1], p[2]);
      console.log(`${r.modelName}@${p[2]} -> version ${r.version}`);
    },
  },
  'delete-alias': {
    summary: 'remove an alias',
    async run(argv) {
      const { v, p } = positionals(specs['delete-alias'], argv, ['model', 'alias']);
      await registryOf(v).deleteAlias(p[0], p[1]);
      console.log(`removed ${p[0]}@${p[1]}`);
    },
  },
  pull: {
    summary: "download a version's weights (md5-verified)",
    async run(argv) {
      const { v, p } = positionals(specs.pull, argv, ['model@alias|model:version']);
      if (!v.dest) throw new OcropsError('OCROPS_USAGE', `--dest is required\n\nUsage: ${specs.pull.usage}`);
      const registry = registryOf(v);
      const version = await registry.resolve(parseModelRef(p[0]));
      await downloadVersion(registry, version, v.dest as string);
      console.log(
        `${version.modelName}:${version.version} -> ${v.dest} (${version.weights.files.length} files, md5 ${version.weights.md5} verified)`,
      );
    },
  },
};
