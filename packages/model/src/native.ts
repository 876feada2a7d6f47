/**
 * Access to TensorFlow ops that tfjs does not expose, through tfjs-node's op-execution entry point
 * (`executeSingleOutput` / `executeMultipleOutputs` of its kernel backend), used only when the active backend is
 * `tensorflow`. Every caller has a portable fallback built from tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}
interface NodeBackend {
  binding: Record<string, number>;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[], n: number): tf.Tensor[];
}

let typeAttr: ((name: string, dtype: tf.DataType) => OpAttr) | undefined;

/** The tfjs-node kernel backend when it is the active backend, else undefined. */
export function nativeBackend(): NodeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  if (!typeAttr) {
    const mod = require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend') as {
      createTensorsTypeOpAttr: (name: string, dtype: tf.DataType) => OpAttr;
    };
    typeAttr = mod.createTensorsTypeOpAttr;
  }
  return tf.backend() as unknown as NodeBackend;
}

/** A `T: float32`-style type attribute for native ops. */
export function dtypeAttr(name: string, dtype: tf.DataType = 'float32'): OpAttr {
  if (!typeAttr) nativeBackend();
  return typeAttr!(name, dtype);
}

/** Typed attributes for native ops (float, bool, string). */
export function attr(nb: NodeBackend, name: string, kind: 'float' | 'bool' | 'string', value: unknown): OpAttr {
  const type = { float: nb.binding.TF_ATTR_FLOAT, bool: nb.binding.TF_ATTR_BOOL, string: nb.binding.TF_ATTR_STRING }[
    kind
  ];
  return { name, type, value };
}

/**
 * Gradient of ReLU given its output: dy where y > 0, else 0. One native `ReluGrad` op on the tensorflow backend
 * (tfjs's own relu gradient goes through `Step`, six full-size ops in tfjs-node); greater + cast + mul elsewhere.
 */
export function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const nb = nativeBackend();
  if (nb) return nb.executeSingleOutput('ReluGrad', [dtypeAttr('T')], [dy, y]);
  return tf.mul(dy, tf.cast(tf.greater(y, 0), 'float32'));
}
