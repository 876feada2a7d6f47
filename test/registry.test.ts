// End-to-end model registry, single run: a real tiny training (`ocrops trainer train --register`) against a real
// tracker server inside a throw-away git + DVC repository whose remote is a local SeaweedFS. The lineage the run logs
// equals DVC's own hashes (`dvc add`), the registry version carries result.json's values, `dvc pull` of the registered
// folder and `ocrops models pull` give byte-identical weights, and the `ocrops models` commands move and roll back aliases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ModelRegistry, TrackerApi } from '@ocrops/tracker';
import { dvc } from '@ocrops/versioning';
import {
  TINY,
  dataConfig,
  dvcAddMd5,
  ocrops,
  root,
  setUp,
  skip,
  snapshot,
  tearDown,
  type RegistryEnv,
} from './registry-helpers.js';

let env: RegistryEnv | undefined;
before(async () => {
  if (!skip) env = await setUp();
});
after(() => tearDown(env));

test(
  'train --register: lineage equals dvc add, registry = result.json, dvc pull and models pull byte-identical, alias moves',
  { skip, timeout: 900_000 },
  async () => {
    const e = env!;
    const data = dataConfig(e);
    const out = join(e.repo, 'runs', 'one');
    const sets = [`data=${data}`, `out=${out}`, ...TINY].flatMap((s) => ['--set', s]);
    await ocrops(e, [
      'trainer',
      'train',
      '--config',
      'configs/train/synthetic.yaml',
      ...sets,
      '--quiet',
      '--register',
      'tiny-ocr',
    ]);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));

    // lineage hashes are DVC's own
    assert.equal(result.lineage.datasetMd5, await dvcAddMd5(e, 'data/prepared/tiny'));
    assert.equal(result.lineage.modelMd5, await dvcAddMd5(e, 'runs/one/best'));
    assert.equal(
      result.lineage.configMd5,
      spawnSync('md5sum', [join(root, 'configs/train/synthetic.yaml')], { encoding: 'utf8' }).stdout.split(' ')[0],
    );
    assert.match(result.lineage.gitCommit, /^[0-9a-f]{40}$/);
    assert.equal(typeof result.lineage.gitDirty, 'boolean');

    // the registry version carries the same values, alias candidate
    const reg = new ModelRegistry(new TrackerApi({ url: e.server.url, apiKey: e.server.defaultKey }));
    const v1 = await reg.resolve('tiny-ocr@candidate');
    assert.equal(v1.version, '1');
    assert.equal(v1.experimentKey, result.experimentKey);
    assert.equal(v1.weights.md5, result.lineage.modelMd5);
    assert.equal(v1.weights.dvc?.md5, result.lineage.modelMd5);
    assert.equal(v1.weights.dvc?.path, 'runs/one/best');
    assert.match(
      v1.weights.dvc?.remote ?? '',
      new RegExp(`^s3://${e.sw.bucket}/dvc/files/md5/${result.lineage.modelMd5.slice(0, 2)}/`),
    );
    assert.deepEqual(
      { ...v1.lineage },
      {
        gitCommit: result.lineage.gitCommit,
        gitDirty: result.lineage.gitDirty,
        configMd5: result.lineage.configMd5,
        configPath: 'configs/train/synthetic.yaml',
        datasetMd5: result.lineage.datasetMd5,
        datasetPath: join(e.repo, 'data', 'prepared', 'tiny'),
      },
    );
    assert.ok(Number.isFinite(v1.metrics.val_loss.last));

    // dvc push, lose the cache and the folder, dvc pull: the registered hash comes back byte-identical
    const weights = join(e.repo, 'runs', 'one', 'best');
    const before = await snapshot(weights);
    await dvc(['push', 'runs/one/best.dvc'], { cwd: e.repo, timeoutMs: 300_000 });
    rmSync(join(e.repo, '.dvc', 'cache'), { recursive: true, force: true });
    rmSync(weights, { recursive: true, force: true });
    await dvc(['pull', 'runs/one/best.dvc'], { cwd: e.repo, timeoutMs: 300_000 });
    assert.deepEqual(await snapshot(weights), before);
    // and `ocrops models pull` by alias gives the same bytes
    const pulled = join(e.repo, 'pulled');
    await ocrops(e, ['models', 'pull', 'tiny-ocr@candidate', '--dest', pulled]);
    assert.deepEqual(await snapshot(pulled), before);

    // a second version from the run folder, alias champion moved and rolled back
    const reg2 = await ocrops(e, [
      'models',
      'register',
      '--run',
      out,
      '--name',
      'tiny-ocr',
      '--alias',
      'champion',
      '--tag',
      'stage=test',
    ]);
    assert.match(reg2.stdout, /registered tiny-ocr:2 \(@champion\)/);
    await ocrops(e, ['models', 'alias', 'tiny-ocr', '1', 'champion']);
    const versions = (await ocrops(e, ['models', 'versions', 'tiny-ocr'])).stdout;
    assert.match(versions, /^1 +@candidate,@champion /m);
    assert.match(versions, /^2 +run /m);
    const list = (await ocrops(e, ['models', 'list'])).stdout;
    assert.match(list, /tiny-ocr +2 version\(s\), latest 2 +@candidate=1 @champion=1/);
    await ocrops(e, ['models', 'delete-alias', 'tiny-ocr', 'candidate']);
    assert.deepEqual((await reg.model('tiny-ocr')).model.aliases, { champion: '1' });
  },
);
