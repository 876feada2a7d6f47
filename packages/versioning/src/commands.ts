// CLI commands of @ocrops/versioning, mounted by @ocrops/cli as `ocrops weights pull`.
import { join, resolve } from 'node:path';
import { OcropsError, parseCommand, repoRoot, type CommandSpec, type CommandTable } from '@ocrops/common';
import { findDvcRoot, pullWeights } from './pull.js';
import { readS3Remote } from './remote.js';

type Values = Record<string, string | boolean | undefined>;

/** Parses argv (handles --help); values keyed by long option name. */
function parse(spec: CommandSpec, argv: string[]): Values {
  return parseCommand(spec, argv).values as Values;
}

const pullSpec: CommandSpec = {
  usage: 'ocrops weights pull [--out models/best] [--dest <folder>] [--lock dvc.lock | --dvc-file <file.dvc>]',
  description:
    'Downloads a DVC-tracked output (default: the best weights, models/best) straight from the S3 remote of .dvc/config,\n' +
    'without Python or DVC: resolves its md5 in dvc.lock (or a .dvc file), fetches <prefix>/files/md5/xx/... objects,\n' +
    'verifies every md5 and rebuilds directory outputs from their .dir manifest.',
  options: {
    out: { type: 'string' },
    dest: { type: 'string' },
    lock: { type: 'string' },
    'dvc-file': { type: 'string' },
    remote: { type: 'string' },
    jobs: { type: 'string', default: '4' },
  },
  help: {
    out: 'output path as recorded in dvc.lock (default models/best) or the .dvc file (default: its only output)',
    dest: 'where to write it (default: the output path itself, under the repository)',
    lock: 'dvc.lock to read (default: <repo>/dvc.lock)',
    'dvc-file': 'read the output from this .dvc file instead of dvc.lock',
    remote: 'DVC remote name (default: core.remote of .dvc/config)',
    jobs: 'parallel downloads',
  },
  examples: [
    'ocrops weights pull',
    'ocrops weights pull --dest /srv/ocr/weights',
    'ocrops weights pull --dvc-file best_model.pth.dvc --dest model.pth',
  ],
};

export const weightsCommands: CommandTable = {
  pull: {
    summary: 'download DVC-tracked weights from the S3 remote (md5-verified)',
    async run(argv) {
      const values = parse(pullSpec, argv);
      const root = repoRoot();
      const dvcFile = values['dvc-file'] as string | undefined;
      const lockPath = dvcFile ? undefined : resolve((values.lock as string | undefined) ?? join(root, 'dvc.lock'));
      const out = (values.out as string | undefined) ?? (dvcFile ? undefined : 'models/best');
      const jobs = Number(values.jobs);
      if (!Number.isInteger(jobs) || jobs < 1)
        throw new OcropsError('OCROPS_USAGE', `--jobs must be a positive integer, got '${String(values.jobs)}'`);
      const remote = values.remote
        ? readS3Remote(findDvcRoot(dvcFile ?? lockPath!), values.remote as string)
        : undefined;
      const destArg = values.dest as string | undefined;
      if (!destArg && !out) throw new OcropsError('OCROPS_USAGE', 'give --dest (or --out) with --dvc-file');
      const dest = resolve(destArg ?? join(root, out!));
      const started = Date.now();
      const rep = await pullWeights({
        lockPath,
        dvcFile,
        out,
        dest,
        remote,
        concurrency: jobs,
        onFile: (f) => {
          if (process.stderr.isTTY) process.stderr.write(`\r  ${f.done}/${f.total} files`);
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      console.log(
        `pulled ${rep.out} (${rep.md5}, ${rep.files} file(s), ${rep.bytes} bytes, md5 verified) from ${rep.url} into ${rep.dest} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    },
  },
};
