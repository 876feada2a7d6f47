// The classification task's data and models from @ocrops/data (prepared classification sets, classBatches) and
// @ocrops/model (cnn4, resnet_gap).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import {
  classBatches,
  loadClassifyDataConfig,
  openPreparedClassify,
  prepareClassify,
  type ClassAugmentConfig,
} from '@ocrops/data';
import { createClassifier, loadClassifier, readClassifierConfig } from '@ocrops/model';
import { relativeToRoot, type TrainConfig } from '../config.js';
import type { ClassData, ClassifyDeps } from './classify-data.js';

/** A prepared classification folder as ClassData; `augment` is what `augment: true` batches apply. */
function classData(dir: string, augment?: ClassAugmentConfig | false, imagesDir?: string): ClassData {
  const ds = openPreparedClassify(dir);
  const aug = augment === undefined ? ds.augment : augment;
  return {
    dir: ds.dir,
    classes: ds.classes,
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    counts: { train: ds.splits.train.count, val: ds.splits.val.count, test: ds.splits.test.count },
    batches: (split, o) =>
      classBatches(ds.splits[split], {
        batchSize: o.batchSize,
        shuffle: o.shuffle,
        seed: o.seed,
        augment: o.augment ? aug : false,
        startBatch: o.startBatch,
        dropLast: o.dropLast,
      }),
    imagePath: imagesDir ? (id) => join(imagesDir, id) : undefined,
  };
}

/** Opens the prepared set of a classification train config, preparing it first when its folder does not exist yet. */
async function openData(cfg: TrainConfig, opts: { quiet?: boolean }): Promise<ClassData> {
  const dataCfg = loadClassifyDataConfig(cfg.data);
  const dir = cfg.prepared ?? dataCfg.outDir;
  if (!existsSync(join(dir, 'meta.json'))) {
    if (cfg.prepared) {
      throw new OcropsError('OCROPS_TRAIN_DATA', `prepared dataset ${cfg.prepared} does not exist`, {
        hint: `run: ocrops data prepare --config ${relativeToRoot(cfg.data)}`,
      });
    }
    if (!opts.quiet) process.stderr.write(`preparing ${relativeToRoot(cfg.data)} into ${relativeToRoot(dir)}\n`);
    const report = await prepareClassify(dataCfg, { progress: !opts.quiet });
    if (report.skipped.length > 0 && !opts.quiet)
      process.stderr.write(`prepare skipped ${report.skipped.length} file(s); see ${relativeToRoot(dir)}/stats.json\n`);
  }
  const imagesDir = dataCfg.source.kind === 'imagefolder' ? dataCfg.source.dir : dataCfg.source.imagesDir;
  return classData(dir, dataCfg.augment, imagesDir);
}

export const classifyDeps: ClassifyDeps = {
  openData,
  openPrepared: async (dir) => classData(dir),
  createModel: (cfg, numClasses) =>
    createClassifier(readClassifierConfig(cfg.model, `${cfg.modelSource ?? cfg.source} (model)`), numClasses, {
      seed: cfg.train.seed,
    }),
  loadModel: async (dir) => loadClassifier(dir),
};
