// The per-dataset DVC pipelines (pipelines/dvc.yaml) on a copy of the repository: `dvc repro` of captcha-v2's
// prepare -> train -> evaluate with its shipped configs shrunk to a few training steps (bounded: about a minute), the
// config's decoding honoured by evaluate, WER reported; and the root dvc.yaml staying one pipeline (prepare -> sweep ->
// evaluate) that a plain `dvc repro` runs without any per-dataset stage.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseDocument } from 'yaml';
import { repoRoot, sharedDataset, sharedDatasetsDir, venvBin } from '@ocrops/common';
import { copyRepo } from '@ocrops/services/testkit';

const root = repoRoot();
const skip = !existsSync(venvBin('dvc'))
  ? '.venv/bin/dvc absent: run scripts/setup'
  : !sharedDataset('captcha-v2')
    ? `shared dataset captcha-v2 absent from ${sharedDatasetsDir()} (set OCROPS_DATASETS)`
    : false;

let copy: string | undefined;
let tiny: string | undefined;
after(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  if (tiny) rmSync(tiny, { recursive: true, force: true });
});

function editYaml(path: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, doc.toString());
}

/** Runs `dvc repro <targets>` in the copy; returns the stages that ran. */
async function repro(targets: string[]): Promise<string[]> {
  const r = await execa(venvBin('dvc'), ['repro', ...targets], {
    cwd: copy,
    all: true,
    reject: false,
    env: { DVC_NO_ANALYTICS: '1', OCROPS_DATASETS: sharedDatasetsDir(), TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  assert.equal(r.exitCode, 0, `dvc repro ${targets.join(' ')} failed:\n${r.all}`);
  return [...r.all.matchAll(/Running stage '([^']+)'/g)].map((m) => m[1]);
}

test(
  "dvc repro of the captcha-v2 pipeline: prepare -> train -> evaluate with the config's beam decoding and WER",
  { skip, timeout: 900_000 },
  async () => {
    copy = copyRepo(root);
    editYaml(join(copy, 'configs/train/captcha-v2.yaml'), (d) => {
      d.setIn(['train', 'epochs'], 1);
      d.setIn(['train', 'max_steps_per_epoch'], 3);
      d.setIn(['train', 'max_val_samples'], 8);
      d.setIn(['train', 'patience'], 0);
      d.setIn(['tracker', 'enabled'], false);
      d.setIn(['decode'], { method: 'beam', beam_width: 3 });
    });
    await execa('git', ['add', '-A'], { cwd: copy });
    await execa('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'copy'], { cwd: copy });

    const target = 'pipelines/dvc.yaml:evaluate@captcha-v2';
    assert.deepEqual(await repro([target]), [
      'pipelines/dvc.yaml:prepare@captcha-v2',
      'pipelines/dvc.yaml:train@captcha-v2',
      'pipelines/dvc.yaml:evaluate@captcha-v2',
    ]);
    const metrics = JSON.parse(readFileSync(join(copy, 'metrics/captcha-v2.json'), 'utf8')) as Record<string, number>;
    assert.equal(metrics.test_beam_width, 3, "evaluate decodes with the train config's beam width");
    for (const k of ['test_loss', 'test_acc_by_char', 'test_acc_by_field', 'test_cer', 'test_wer']) {
      assert.ok(Number.isFinite(metrics[k]), `${k} in metrics/captcha-v2.json`);
    }
    assert.ok(metrics.test_count > 0);
    assert.ok(existsSync(join(copy, 'models/captcha-v2/model.json')));
    const plots = JSON.parse(readFileSync(join(copy, 'plots/captcha-v2.json'), 'utf8')) as unknown[];
    assert.equal(plots.length, 1, 'one epoch of per-epoch records');
    assert.deepEqual(await repro([target]), [], 'nothing changed: nothing runs');

    // the decoding is a param of evaluate only: greedy again re-runs evaluate, not the training
    editYaml(join(copy, 'configs/train/captcha-v2.yaml'), (d) =>
      d.setIn(['decode'], { method: 'greedy', beam_width: 3 }),
    );
    assert.deepEqual(await repro([target]), ['pipelines/dvc.yaml:evaluate@captcha-v2']);
    assert.equal(JSON.parse(readFileSync(join(copy, 'metrics/captcha-v2.json'), 'utf8')).test_beam_width, 1);

    // the root dvc.yaml is the one default pipeline (through the registry): no train stage beside the sweep, no per-dataset stage
    const rootStages = Object.keys(
      (parseDocument(readFileSync(join(copy, 'dvc.yaml'), 'utf8')).toJS() as { stages: object }).stages,
    );
    assert.deepEqual(rootStages, ['prepare', 'sweep', 'evaluate', 'register']);
    const st = await execa(venvBin('dvc'), ['status', 'dvc.yaml'], {
      cwd: copy,
      all: true,
      env: { DVC_NO_ANALYTICS: '1' },
    });
    assert.doesNotMatch(
      st.all,
      /pipelines\/dvc\.yaml|@captcha-v2/,
      '`dvc status dvc.yaml` lists only the default pipeline',
    );
  },
);

const skipClassify = !existsSync(venvBin('dvc'))
  ? '.venv/bin/dvc absent: run scripts/setup'
  : !sharedDataset('butterflies-75')
    ? `shared dataset butterflies-75 absent from ${sharedDatasetsDir()} (set OCROPS_DATASETS)`
    : false;

test(
  'dvc repro of the butterflies classification pipeline: prepare -> train -> evaluate with top-1/top-5 and the report',
  { skip: skipClassify, timeout: 900_000 },
  async () => {
    copy ??= copyRepo(root);
    // 4 species x 12 images at 32x32 (symlinks into the shared set), one epoch of 3 batches
    tiny = mkdtempSync(join(tmpdir(), 'ocrops-dvc-butterflies-'));
    const src = join(sharedDataset('butterflies-75')!, 'train');
    for (const species of readdirSync(src).sort().slice(0, 4)) {
      mkdirSync(join(tiny, species));
      for (const f of readdirSync(join(src, species)).sort().slice(0, 12))
        symlinkSync(join(src, species, f), join(tiny, species, f));
    }
    editYaml(join(copy, 'configs/data/butterflies.yaml'), (d) => {
      d.setIn(['source'], { kind: 'imagefolder', dir: tiny });
      d.setIn(['image'], { height: 32, width: 32, channels: 3 });
      d.setIn(['split'], { val: 0.25, test: 0.25, seed: 1 });
    });
    editYaml(join(copy, 'configs/train/butterflies.yaml'), (d) => {
      d.setIn(['model'], { arch: 'cnn4', height: 32, width: 32, channels: 3, base_channels: 8 });
      d.setIn(['train', 'epochs'], 1);
      d.setIn(['train', 'max_steps_per_epoch'], 3);
      d.setIn(['train', 'batch_size'], 8);
      d.setIn(['tracker', 'enabled'], false);
    });
    await execa('git', ['add', '-A'], { cwd: copy });
    await execa('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'tiny butterflies'], {
      cwd: copy,
    });

    const target = 'pipelines/dvc.yaml:evaluate-classify@butterflies';
    assert.deepEqual(await repro([target]), [
      'pipelines/dvc.yaml:prepare-classify@butterflies',
      'pipelines/dvc.yaml:train-classify@butterflies',
      target,
    ]);
    const metrics = JSON.parse(readFileSync(join(copy, 'metrics/butterflies.json'), 'utf8')) as Record<string, number>;
    for (const k of ['test_loss', 'test_top1', 'test_top5', 'test_macro_precision', 'test_macro_recall']) {
      assert.ok(Number.isFinite(metrics[k]), `${k} in metrics/butterflies.json`);
    }
    assert.equal(metrics.test_count, 12, '4 species x 3 test images');
    const report = JSON.parse(readFileSync(join(copy, 'reports/butterflies-errors.json'), 'utf8')) as {
      per_class: unknown[];
      confusion_matrix: { labels: string[]; matrix: number[][] };
    };
    assert.equal(report.per_class.length, 4);
    assert.equal(
      report.confusion_matrix.matrix.flat().reduce((a, b) => a + b, 0),
      12,
    );
    assert.equal((JSON.parse(readFileSync(join(copy, 'plots/butterflies.json'), 'utf8')) as unknown[]).length, 1);
    assert.deepEqual(await repro([target]), [], 'nothing changed: nothing runs');
  },
);
