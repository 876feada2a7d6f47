import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { createModel, parseModelConfig, selectBackend, type OcrModel } from '@ocrops/model';
import { buildTrainConfig } from './config.js';
import { describeInit, initFromSaved } from './init-from.js';
import type { TaskSession } from './tasks/task.js';
import { TINY_MODEL, writeTinyDataConfig } from './testing/fixtures.js';
import { train } from './train.js';

await selectBackend({ quiet: true });

const modelCfg = () => parseModelConfig(TINY_MODEL, 'm');
const CHARS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];

/** The parts of a task session `initFromSaved` reads: the model, its output layer and a label comparison. */
function session(model: OcrModel, sameLabels: boolean): TaskSession {
  return {
    model,
    outputWeights: ['decoder/kernel', 'decoder/bias'],
    sameLabels: () => sameLabels,
  } as unknown as TaskSession;
}

const values = (m: OcrModel) => new Map([...m.namedWeights()].map(([k, v]) => [k, Array.from(v.dataSync())]));

async function savedModel(
  dir: string,
  meta: Record<string, unknown> = { charset: { chars: CHARS } },
): Promise<OcrModel> {
  const saved = createModel(modelCfg(), CHARS.length + 1);
  await saved.save(dir, meta);
  return saved;
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(
    p,
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_TRAIN_INIT' && re.test(e.message),
  );
}

test('init_from copies every weight of the same name and shape; the output layer only with the same labels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-init-'));
  const saved = values(await savedModel(join(dir, 'best')));

  const same = createModel(modelCfg(), CHARS.length + 1);
  const r = await initFromSaved(dir, session(same, true), 'ocr'); // a run folder: its best/
  assert.equal(r.dir, join(dir, 'best'));
  assert.deepEqual([r.loaded, r.kept.length], [r.total, 0]);
  assert.deepEqual(values(same), saved);

  const relabelled = createModel(modelCfg(), CHARS.length + 1);
  const before = values(relabelled);
  const r2 = await initFromSaved(join(dir, 'best'), session(relabelled, false), 'ocr');
  assert.deepEqual(
    r2.kept.map((k) => k.name),
    ['decoder/kernel', 'decoder/bias'],
  );
  assert.equal(r2.loaded, r2.total - 2);
  const after = values(relabelled);
  for (const [name, v] of after)
    assert.deepEqual(v, name.startsWith('decoder/') ? before.get(name) : saved.get(name), name);
  assert.match(
    describeInit(r2),
    /\d+ of \d+ weights loaded; initial values kept: decoder\/kernel \(the labels differ\)/,
  );

  const wider = createModel(modelCfg(), CHARS.length + 3); // another charset size: the output layer's shapes differ
  const r3 = await initFromSaved(dir, session(wider, true), 'ocr');
  assert.deepEqual(
    r3.kept.map((k) => k.name),
    ['decoder/kernel', 'decoder/bias'],
  );
  assert.match(r3.kept[0].reason, /shape \[16,10\] saved, \[16,12\] here/);
  tf.disposeVariables();
});

test('init_from refuses a folder without a model, a model of another task and one of another architecture', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-init-'));
  const model = createModel(modelCfg(), CHARS.length + 1);
  await rejects(initFromSaved(join(dir, 'nothing'), session(model, true), 'ocr'), /nothing holds no saved model/);
  await savedModel(join(dir, 'cls'), { task: 'classify' });
  await rejects(
    initFromSaved(join(dir, 'cls'), session(model, true), 'ocr'),
    /holds a 'classify' model; this run trains 'ocr'/,
  );
  await savedModel(join(dir, 'vgg'));
  const small = createModel(parseModelConfig({ arch: 'small', height: 32, channels: 1 }, 'm'), CHARS.length + 1);
  await rejects(
    initFromSaved(join(dir, 'vgg'), session(small, true), 'ocr'),
    /no weight of .* fits this model \((?!decoder)\w+/,
  );
  tf.disposeVariables();
});

test('a run with train.init_from starts where the saved run ended (validation loss), a fresh one does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-init-run-'));
  const data = writeTinyDataConfig(dir);
  const raw = (train: Record<string, unknown>, lr: number) => ({
    data,
    model: TINY_MODEL,
    optim: { name: 'adam', lr },
    train: { batch_size: 16, augment: false, bucket_window: 0, seed: 5, ...train },
    tracker: { enabled: false },
  });
  const first = await train(buildTrainConfig(raw({ epochs: 4 }, 0.01), 'a.yaml', [], { out: join(dir, 'a') }), {
    quiet: true,
  });
  const startLoss = (train_: Record<string, unknown>) =>
    train(
      buildTrainConfig(raw({ epochs: 1, ...train_ }, 1e-9), 'b.yaml', [], {
        out: join(dir, `b${Object.keys(train_).length}`),
      }),
      {
        quiet: true,
      },
    ).then((r) => r.final.metrics.val_loss);
  const bestLoss = first.best!.value;
  const continued = await startLoss({ init_from: join(dir, 'a') });
  const fresh = await startLoss({});
  assert.ok(
    Math.abs(continued - bestLoss) < 0.01 * bestLoss,
    `continued ${continued} vs the saved run's best ${bestLoss}`,
  );
  assert.ok(fresh > bestLoss * 1.15, `a fresh model starts higher: ${fresh} vs ${bestLoss}`);
});

test('config: train.init_from is resolved and must exist', () => {
  const base = { data: 'configs/data/synthetic.yaml', model: { arch: 'small', height: 32, channels: 1 } };
  assert.throws(
    () => buildTrainConfig({ ...base, train: { init_from: '/nonexistent/best' } }, 'x.yaml'),
    (e: unknown) => e instanceof OcropsError && /x\.yaml.*train\.init_from.*does not exist/s.test(e.message),
  );
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-init-cfg-'));
  assert.equal(buildTrainConfig({ ...base, train: { init_from: dir } }, 'x.yaml').train.initFrom, dir);
  assert.equal(buildTrainConfig(base, 'x.yaml').train.initFrom, undefined);
});
