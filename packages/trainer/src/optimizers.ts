// Optimisers of the trainer: tfjs' Adam and RMSprop, and Adam with AMSGrad (PyTorch `Adam(amsgrad=True)`), which
// tfjs lacks. The lr of any of them can be changed between steps (lr schedules).
import * as tf from '@tensorflow/tfjs';
import type { OptimConfig } from './config.js';

/** A named tensor as tfjs optimisers exchange them (getWeights/setWeights). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/**
 * Adam with the AMSGrad rule (Reddi et al. 2018, PyTorch's `amsgrad=True`): the denominator uses the running maximum
 * of the second moment, so the step size never grows back when gradients shrink.
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v)
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(vmax / (1 - b2^t)) + eps)
 * State: iterations, then m, v and vmax of each variable (what checkpoints save and restore).
 */
export class AmsgradOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'AdamAmsgrad';
  }

  private m: Slot[] = [];
  private v: Slot[] = [];
  private vmax: Slot[] = [];

  constructor(
    public learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-8,
  ) {
    super();
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const t = this.iterations + 1;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        const slot = (list: Slot[], suffix: string) => {
          if (list[i] == null) {
            list[i] = {
              originalName: `${name}/${suffix}`,
              variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
            };
          }
          return list[i].variable;
        };
        const m = slot(this.m, 'm');
        const v = slot(this.v, 'v');
        const vmax = slot(this.vmax, 'vmax');
        const g = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (g == null) return;
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const vmax1 = tf.maximum(vmax, v1);
        m.assign(m1);
        v.assign(v1);
        vmax.assign(vmax1);
        const denom = tf.add(tf.sqrt(tf.div(vmax1, bc2)), this.epsilon);
        value.assign(tf.sub(value, tf.mul(tf.div(tf.div(m1, bc1), denom), this.learningRate)));
      });
    });
    this.incrementIterations();
  }

  override dispose(): void {
    tf.dispose([...this.m, ...this.v, ...this.vmax].map((s) => s.variable));
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const slots = [...this.m, ...this.v, ...this.vmax];
    return [await this.saveIterations(), ...slots.map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const n = rest.length / 3;
    const toSlots = (part: NamedTensor[]) =>
      part.map((w) => ({ originalName: w.name, variable: w.tensor.variable(false) }));
    tf.dispose([...this.m, ...this.v, ...this.vmax].map((s) => s.variable));
    this.m = toSlots(rest.slice(0, n));
    this.v = toSlots(rest.slice(n, 2 * n));
    this.vmax = toSlots(rest.slice(2 * n));
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      amsgrad: true,
    };
  }
}

/** The optimiser of a config: `adam` (with `amsgrad`) or `rmsprop`, at the config's base lr. */
export function makeOptimizer(optim: OptimConfig): tf.Optimizer {
  if (optim.name === 'rmsprop') return tf.train.rmsprop(optim.lr);
  return optim.amsgrad ? new AmsgradOptimizer(optim.lr) : tf.train.adam(optim.lr);
}

/** Sets the lr used by the next `applyGradients` (tfjs' optimisers read their `learningRate` field at each step). */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

/** The lr the optimiser will use for its next step. */
export function learningRateOf(opt: tf.Optimizer): number {
  return (opt as unknown as { learningRate: number }).learningRate;
}
