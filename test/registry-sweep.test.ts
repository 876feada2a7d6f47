// End-to-end model registry, sweep: `ocrops sweep run --register` makes the best trial a version with alias
// `candidate` whose values equal best.json's, and the pipeline's `register` stage command (dvc.yaml with
// configs/pipeline.yaml's params) records an evaluated version. Same setup as registry.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModelRegistry, TrackerApi } from '@ocrops/tracker';
import { dataConfig, dvcAddMd5, ocrops, root, setUp, skip, tearDown, type RegistryEnv } from './registry-helpers.js';

let env: RegistryEnv | undefined;
before(async () => {
  if (!skip) env = await setUp();
});
after(() => tearDown(env));

test(
  'sweep run --register: the best trial becomes a version with alias candidate; best.json and the version agree',
  { skip, timeout: 900_000 },
  async () => {
    const e = env!;
    const data = dataConfig(e);
    const file = join(e.repo, 'sweep.yaml');
    writeFileSync(
      file,
      [
        'algorithm: grid',
        'spec: { maxCombo: 2, objective: minimize, metric: val_loss, seed: 7 }',
        'parameters:',
        '  lr: [0.001, 0.005]',
        'ocrops:',
        '  train: configs/train/synthetic.yaml',
        '  workers: 1',
        `  set: { data: ${JSON.stringify(data)}, train.epochs: 1, train.max_steps_per_epoch: 3, train.batch_size: 8,`,
        '         model.embed_dim: 16, hidden: 16, train.checkpoint_every: 0, train.augment: false }',
        '  pruner: { type: none }',
        `  out: ${JSON.stringify(join(e.repo, 'sweep'))}`,
        `  best: ${JSON.stringify(join(e.repo, 'models', 'best'))}`,
        '',
      ].join('\n'),
    );
    const r = await ocrops(e, ['sweep', 'run', '--config', file, '--register', 'tiny-sweep']);
    assert.match(r.stderr + r.stdout, /registered tiny-sweep:1 \(@candidate\)/);
    const best = JSON.parse(readFileSync(join(e.repo, 'models', 'best', 'best.json'), 'utf8'));
    const reg = new ModelRegistry(new TrackerApi({ url: e.server.url, apiKey: e.server.defaultKey }));
    const v = await reg.resolve('tiny-sweep@candidate');
    assert.equal(v.experimentKey, best.experimentKey);
    assert.equal(v.sweepId, best.sweepId);
    assert.equal(v.weights.md5, best.lineage.modelMd5);
    assert.equal(v.lineage.datasetMd5, best.lineage.datasetMd5);
    assert.equal(v.lineage.gitCommit, best.lineage.gitCommit);
    assert.equal(v.lineage.configMd5, best.lineage.configMd5);
    // models/best as DVC sees it (weights + best.json) is what the version's dvc field records
    assert.equal(v.weights.dvc?.md5, await dvcAddMd5(e, 'models/best'));

    // the pipeline's register stage: its command from dvc.yaml with configs/pipeline.yaml's params, run in this repo
    const stage = (
      parseYaml(readFileSync(join(root, 'dvc.yaml'), 'utf8')) as { stages: Record<string, { cmd: string }> }
    ).stages.register;
    const params = parseYaml(readFileSync(join(root, 'configs/pipeline.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const cmd = stage.cmd.replace(/\$\{(\w+)\.(\w+)\}/g, (_, a: string, b: string) =>
      a === 'register' && b === 'model' ? 'tiny-sweep' : String(params[a][b]),
    );
    writeFileSync(
      join(e.repo, 'metrics.json'),
      JSON.stringify({ test_acc_by_char: 0.42, test_cer: 0.6, split: 'test' }),
    );
    const args = cmd.split(/\s+/).slice(2); // drop `node packages/cli/bin/ocrops.mjs`
    await ocrops(
      e,
      args.map((a) =>
        a === 'models/best' || a === 'metrics.json' || a === 'reports/registered.json' ? join(e.repo, a) : a,
      ),
    );
    const recorded = JSON.parse(readFileSync(join(e.repo, 'reports', 'registered.json'), 'utf8'));
    assert.equal(recorded.version, '2');
    assert.deepEqual(recorded.evaluation, { test_acc_by_char: 0.42, test_cer: 0.6 });
    const stageVersion = await reg.resolve(`tiny-sweep@${params.register.alias}`);
    assert.equal(stageVersion.version, '2');
    assert.equal(stageVersion.tags.evaluated_on, params.evaluate.split);
    assert.equal(stageVersion.weights.md5, best.lineage.modelMd5);
  },
);
