/**
 * The ResNet BasicBlock shared by the OCR backbones (model.ts) and the image classifiers (classifier.ts):
 * conv3x3(stride) BN ReLU conv3x3 BN, plus the input (1x1 conv + BN when the shape changes), ReLU.
 */
import * as tf from '@tensorflow/tfjs';
import { ParamStore, batchNorm, conv, makeBatchNorm, makeConv, relu, type BatchNorm, type Conv } from './params.js';

/** The weights of one BasicBlock; `proj` is the 1x1 shortcut, present when the block changes channels or size. */
export interface BasicBlock {
  c1: Conv;
  b1: BatchNorm;
  c2: Conv;
  b2: BatchNorm;
  proj?: { c: Conv; b: BatchNorm };
}

/**
 * Creates a BasicBlock's variables under `name`: conv1, bn1, conv2, bn2, and (when cin != cout or the stride is not 1)
 * the shortcut `${name}/${projName}` + `${name}/${projName}_bn`.
 * @param stride one stride for both axes, or [height, width]
 * @param projName the shortcut's variable name: 'downsample' (torchvision's) unless a checkpoint layout names it otherwise
 */
export function makeBasicBlock(
  p: ParamStore,
  name: string,
  cin: number,
  cout: number,
  stride: number | [number, number],
  projName = 'downsample',
): BasicBlock {
  const s: [number, number] = typeof stride === 'number' ? [stride, stride] : stride;
  const blk: BasicBlock = {
    c1: makeConv(p, `${name}/conv1`, [3, 3], cin, cout, { bias: false, strides: s }),
    b1: makeBatchNorm(p, `${name}/bn1`, cout),
    c2: makeConv(p, `${name}/conv2`, [3, 3], cout, cout, { bias: false }),
    b2: makeBatchNorm(p, `${name}/bn2`, cout),
  };
  if (cin !== cout || s[0] !== 1 || s[1] !== 1) {
    blk.proj = {
      c: makeConv(p, `${name}/${projName}`, [1, 1], cin, cout, { bias: false, strides: s }),
      b: makeBatchNorm(p, `${name}/${projName}_bn`, cout),
    };
  }
  return blk;
}

/** Runs one BasicBlock on NHWC activations. */
export function basicBlock(y: tf.Tensor4D, blk: BasicBlock, training: boolean): tf.Tensor4D {
  const a = relu(batchNorm(conv(y, blk.c1, false), blk.b1, training));
  const b = batchNorm(conv(a, blk.c2, false), blk.b2, training);
  const short = blk.proj ? batchNorm(conv(y, blk.proj.c, false), blk.proj.b, training) : y;
  return relu(tf.add(b, short)) as tf.Tensor4D;
}
