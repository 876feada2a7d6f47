// Command groups of the ocrops CLI. Each package exports its command table; this file only wires them together
// (and hands @ocrops/search's algorithm to the tracker server, which stores sweep state and calls it).
// Groups load lazily, so `ocrops data prepare` does not load TensorFlow, the tracker server or the AWS SDK, and
// `ocrops tracker serve` loads neither the trainer nor TensorFlow, sharp or canvas.
import type { CommandTable } from '@ocrops/common';

export interface CommandGroup {
  summary: string;
  load(): Promise<CommandTable>;
  /** Command run when the group is called without one (`ocrops serve --model ...`). */
  defaultCommand?: string;
}

export const groups: Record<string, CommandGroup> = {
  data: {
    summary: 'prepare datasets, convert Label Studio exports, synthetic lines',
    load: async () => (await import('@ocrops/data')).commands,
  },
  trainer: {
    summary: 'train, evaluate, predict, export',
    load: async () => (await import('@ocrops/trainer')).commands,
  },
  sweep: {
    summary: 'hyperparameter sweeps (Comet optimizer configs)',
    load: async () => (await import('@ocrops/sweep')).commands,
  },
  tracker: {
    summary: 'the tracking server, API keys, spool sync',
    load: async () => {
      const [{ makeTrackerCommands }, { optimizerAlgorithm }] = await Promise.all([
        import('@ocrops/tracker'),
        import('@ocrops/search'),
      ]);
      return makeTrackerCommands({ optimizer: optimizerAlgorithm });
    },
  },
  models: {
    summary: 'model registry: register runs, list versions, move aliases, pull weights',
    load: async () => (await import('@ocrops/tracker')).modelsCommands,
  },
  weights: {
    summary: 'DVC-tracked weights from S3 without Python',
    load: async () => (await import('@ocrops/versioning')).weightsCommands,
  },
  serve: {
    summary: 'serve a model over HTTP: KServe v2 / Open Inference Protocol, /predict, web page, metrics',
    load: async () => (await import('@ocrops/serve')).commands,
    defaultCommand: 'serve',
  },
  services: {
    summary: 'background SeaweedFS (S3) and tracker server',
    load: async () => (await import('@ocrops/services')).servicesCommands,
  },
};
