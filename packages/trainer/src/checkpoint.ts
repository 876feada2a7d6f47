// Training checkpoints: model weights + optimizer state + loop position, written atomically (temp dir + rename).
//
// Layout of `<out>/checkpoints/<name>/`:
//   state.json      TrainState (epoch, batch position, step, running epoch sums, best, history, ...)
//   tensors.json    manifest: [{ group: 'model'|'optimizer', name, shape, dtype, offset, bytes }]
//   tensors.bin     the tensors' raw little-endian values, concatenated
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, readJsonFile, replaceDir } from '@ocrops/common';
import type { PlateauState } from './schedule.js';

/** One epoch's metrics, as logged to the tracker and written to the plots file. */
export interface EpochRecord {
  epoch: number;
  step: number;
  metrics: Record<string, number>;
}

/** Running sums over the training batches of the epoch in progress. */
export interface EpochSums {
  lossSum: number;
  batches: number;
  samples: number;
  charAccSum: number;
  fieldCorrect: number;
  /** lines whose label needs more CTC steps than the model outputs for their width (zeroed by zeroInfinity) */
  tooLong: number;
  /** seconds of training spent in this epoch so far (images_per_second, epoch_time) */
  seconds: number;
  /** a task's own counters (classification: top1, top5), absent until the task first adds to them */
  [counter: string]: number;
}

/** Everything besides tensors needed to continue a run exactly where it stopped. */
export interface TrainState {
  version: 1;
  /** epoch in progress, 0-based */
  epoch: number;
  /** batches of `epoch` already trained */
  batchInEpoch: number;
  /** optimiser steps done since the start of the run */
  step: number;
  sums: EpochSums;
  best: { value: number; epoch: number; step: number } | null;
  /** consecutive epochs without improvement of the monitored metric */
  badEpochs: number;
  history: EpochRecord[];
  experimentKey?: string;
  /** training wall time accumulated over all sessions of this run, seconds */
  wallTimeSeconds: number;
  /** lines with labels too long for T over the whole run */
  labelsTooLong: number;
  /** set when the run has ended (epochs done or early stop) */
  finished: boolean;
  stoppedEarly: boolean;
  /** fingerprint of the config parts that must not change across a resume */
  configHash: string;
  /** the `plateau` lr schedule's reductions and counters (absent in checkpoints of earlier versions) */
  plateau?: PlateauState;
}

/** A new state at the start of a run. */
export function freshState(configHash: string): TrainState {
  return {
    version: 1,
    epoch: 0,
    batchInEpoch: 0,
    step: 0,
    sums: emptySums(),
    best: null,
    badEpochs: 0,
    history: [],
    wallTimeSeconds: 0,
    labelsTooLong: 0,
    finished: false,
    stoppedEarly: false,
    configHash,
  };
}

export function emptySums(): EpochSums {
  return { lossSum: 0, batches: 0, samples: 0, charAccSum: 0, fieldCorrect: 0, tooLong: 0, seconds: 0 };
}

interface ManifestEntry {
  group: 'model' | 'optimizer';
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  bytes: number;
}

/** A tensor read back from a checkpoint (plain data, no tf memory). */
export interface StoredTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export interface CheckpointContents {
  state: TrainState;
  model: StoredTensor[];
  optimizer: StoredTensor[];
}

/** Optimizer state as named tensors, including Adam's bias-correction accumulators (exact resume). */
export async function optimizerTensors(opt: tf.Optimizer): Promise<Array<{ name: string; tensor: tf.Tensor }>> {
  const named = await opt.getWeights();
  const o = opt as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (o.accBeta1 && o.accBeta2) {
    named.push({ name: '__accBeta1', tensor: o.accBeta1 }, { name: '__accBeta2', tensor: o.accBeta2 });
  }
  return named;
}

/** Restores what `optimizerTensors` saved. */
export async function restoreOptimizer(opt: tf.Optimizer, stored: StoredTensor[]): Promise<void> {
  const extra = stored.filter((s) => s.name.startsWith('__'));
  const main = stored.filter((s) => !s.name.startsWith('__'));
  if (main.length === 0) return;
  const named = main.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape, s.dtype) }));
  await opt.setWeights(named);
  // setWeights copies into new variables; free the temporaries.
  for (const n of named) n.tensor.dispose();
  const o = opt as unknown as Record<string, tf.Variable | undefined>;
  for (const e of extra) {
    const v = o[e.name.slice(2)];
    if (v) v.assign(tf.tensor(e.data, e.shape, e.dtype) as tf.Scalar);
  }
}

function writeFileDurable(path: string, chunks: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a checkpoint atomically to `dir`: everything goes to a sibling temp folder first, which then replaces `dir`
 * with renames, so a crash at any moment leaves either the old or the new checkpoint readable.
 */
export async function writeCheckpoint(
  dir: string,
  contents: { state: TrainState; model: tf.Variable[]; optimizer: Array<{ name: string; tensor: tf.Tensor }> },
): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const manifest: ManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = async (group: ManifestEntry['group'], name: string, t: tf.Tensor) => {
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const values = (await t.data()) as Float32Array | Int32Array;
    const typed = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    manifest.push({ group, name, shape: t.shape, dtype, offset, bytes: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  };
  for (let i = 0; i < contents.model.length; i++)
    await add('model', `${i}:${contents.model[i].name}`, contents.model[i]);
  for (const o of contents.optimizer) await add('optimizer', o.name, o.tensor);
  writeFileDurable(join(tmp, 'tensors.bin'), chunks);
  writeFileDurable(join(tmp, 'tensors.json'), [Buffer.from(JSON.stringify(manifest))]);
  writeFileDurable(join(tmp, 'state.json'), [Buffer.from(JSON.stringify(contents.state, null, 1))]);
  replaceDir(tmp, dir);
}

/** The readable checkpoint folder for `dir` (the `.old` copy if a crash happened between the two renames). */
export function findCheckpoint(dir: string): string | undefined {
  if (existsSync(join(dir, 'state.json'))) return dir;
  if (existsSync(join(`${dir}.old`, 'state.json'))) return `${dir}.old`;
  return undefined;
}

/** Reads a checkpoint written by `writeCheckpoint`. */
export function readCheckpoint(dir: string): CheckpointContents {
  const found = findCheckpoint(dir);
  if (!found) {
    throw new OcropsError('OCROPS_TRAIN_NO_CHECKPOINT', `no checkpoint in ${dir}`, {
      hint: 'start the run without --resume, or point --out at the run folder that holds checkpoints/last',
    });
  }
  const state = readJsonFile<TrainState>(join(found, 'state.json'));
  if (state.version !== 1) {
    throw new OcropsError(
      'OCROPS_TRAIN_CHECKPOINT',
      `${found}/state.json has unknown version ${String(state.version)}`,
    );
  }
  const manifest = readJsonFile<ManifestEntry[]>(join(found, 'tensors.json'));
  const bin = readFileSync(join(found, 'tensors.bin'));
  const model: StoredTensor[] = [];
  const optimizer: StoredTensor[] = [];
  for (const m of manifest) {
    if (m.offset + m.bytes > bin.byteLength) {
      throw new OcropsError('OCROPS_TRAIN_CHECKPOINT', `${found}/tensors.bin is truncated (tensor ${m.name})`, {
        hint: 'delete this checkpoint folder and resume from the other one, or restart the run',
      });
    }
    const copy = bin.buffer.slice(bin.byteOffset + m.offset, bin.byteOffset + m.offset + m.bytes);
    const data = m.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    const t = { name: m.name, shape: m.shape, dtype: m.dtype, data };
    (m.group === 'model' ? model : optimizer).push(t);
  }
  return { state, model, optimizer };
}

/** Assigns stored weights to the model's variables (same order and shapes as when saved). */
export function assignWeights(vars: tf.Variable[], stored: StoredTensor[], source: string): void {
  if (vars.length !== stored.length) {
    throw new OcropsError(
      'OCROPS_TRAIN_CHECKPOINT',
      `${source} holds ${stored.length} weight tensors but the model has ${vars.length}`,
      { hint: 'the model config changed since the checkpoint was written; resume with the same config' },
    );
  }
  vars.forEach((v, i) => {
    const s = stored[i];
    if (s.shape.join('x') !== v.shape.join('x')) {
      throw new OcropsError(
        'OCROPS_TRAIN_CHECKPOINT',
        `${source}: weight ${i} (${v.name}) has shape [${s.shape}] in the checkpoint and [${v.shape}] in the model`,
        { hint: 'resume with the same model config' },
      );
    }
    tf.tidy(() => v.assign(tf.tensor(s.data, s.shape, v.dtype)));
  });
}
