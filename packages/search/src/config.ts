// Parsing and validation of Comet optimizer configs (YAML or JSON) into a typed OptimizerConfig.
import { ConfigReader, OcropsError, readYamlFile } from '@ocrops/common';
import type { Algorithm, OptimizerConfig, ParamSpec, ScalingType } from './types.js';

const ALGORITHMS: readonly Algorithm[] = ['grid', 'random', 'bayes'];
const TOP_KEYS = ['algorithm', 'spec', 'parameters', 'name', 'trials'] as const;
const SPEC_KEYS = [
  'maxCombo',
  'objective',
  'metric',
  'seed',
  'retryLimit',
  'retryAssignLimit',
  'gridSize',
  'randomize',
  'minSampleSize',
] as const;
const PARAM_KEYS = ['type', 'min', 'max', 'scalingType', 'scaling', 'values', 'mu', 'sigma', 'gridSize', 'value'];
const SCALINGS: Record<string, ScalingType> = {
  uniform: 'uniform',
  linear: 'uniform',
  loguniform: 'loguniform',
  normal: 'normal',
  lognormal: 'lognormal',
};
/** Seed used when a config gives none, so that the stateless `suggest` stays reproducible. */
export const DEFAULT_SEED = 42;

/**
 * Validates a Comet optimizer config (already parsed from YAML/JSON) and returns it typed.
 * @param raw the parsed document
 * @param source file name (or description) used in error messages
 * @param extraTopKeys other top-level sections allowed beside the Comet ones (e.g. `ocrops` in sweep files)
 */
export function parseOptimizerConfig(
  raw: unknown,
  source = 'optimizer config',
  extraTopKeys: string[] = [],
): OptimizerConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new OcropsError('OCROPS_SWEEP_CONFIG', `${source}: expected a mapping with algorithm, spec and parameters`, {
      hint: 'see the Comet optimizer config format in docs (algorithm, spec, parameters, trials)',
    });
  }
  const r = ConfigReader.from(raw, source).only([...TOP_KEYS, ...extraTopKeys]);
  const algorithm = r.oneOf('algorithm', ALGORITHMS, 'bayes');
  const s = r.section('spec').only(SPEC_KEYS);
  const spec: OptimizerConfig['spec'] = {
    maxCombo: s.integer('maxCombo', 0, { min: 0 }),
    objective: s.oneOf('objective', ['minimize', 'maximize'] as const, 'minimize'),
    metric: s.string('metric', 'loss'),
    seed: s.integer('seed', DEFAULT_SEED),
    retryLimit: s.integer('retryLimit', 20, { min: 0 }),
    retryAssignLimit: s.integer('retryAssignLimit', 0, { min: 0 }),
    gridSize: s.integer('gridSize', 10, { min: 1 }),
    randomize: s.boolean('randomize', false),
    minSampleSize: s.integer('minSampleSize', 0, { min: 0 }),
  };
  if (spec.metric.trim() === '') s.fail('metric', 'must not be empty');
  const p = r.raw('parameters');
  if (p === undefined || p === null) r.fail('parameters', 'is required (a mapping of parameter name to spec)');
  if (typeof p !== 'object' || Array.isArray(p)) r.fail('parameters', 'must be a mapping of parameter name to spec');
  const entries = Object.entries(p as Record<string, unknown>);
  if (entries.length === 0) r.fail('parameters', 'must define at least one parameter');
  const parameters = entries.map(([name, v]) => parseParam(name, v, source, spec.gridSize));
  const trials = r.integer('trials', 1, { min: 1 });
  const name = r.optionalString('name');
  return { algorithm, name, spec, parameters, trials };
}

/** Reads and validates an optimizer config file (YAML or JSON). */
export function loadOptimizerConfig(path: string, extraTopKeys: string[] = []): OptimizerConfig {
  return parseOptimizerConfig(readYamlFile(path), path, extraTopKeys);
}

function fail(source: string, field: string, what: string, hint?: string): never {
  throw new OcropsError('OCROPS_SWEEP_CONFIG', `${source}: field 'parameters.${field}' ${what}`, { hint });
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function parseParam(name: string, v: unknown, source: string, defaultGrid: number): ParamSpec {
  if (name.trim() === '') fail(source, name, 'has an empty name');
  if (isScalar(v)) return { name, type: 'fixed', value: v };
  if (Array.isArray(v)) return listParam(name, v, source, undefined);
  const r = new ConfigReader(v as Record<string, unknown>, source, `parameters.${name}`);
  for (const k of r.keys()) {
    if (!PARAM_KEYS.includes(k)) r.fail(k, `is not a known parameter field (known: ${PARAM_KEYS.join(', ')})`);
  }
  if (!r.has('type')) r.fail('type', 'is required (integer, float, double, discrete or categorical)');
  const type = r.string('type');
  const scalingRaw = r.has('scalingType')
    ? r.string('scalingType')
    : r.has('scaling')
      ? r.string('scaling')
      : undefined;
  switch (type) {
    case 'float':
    case 'double':
    case 'integer':
      return numericParam(name, type === 'integer' ? 'integer' : 'float', r, scalingRaw, defaultGrid);
    case 'discrete':
    case 'categorical': {
      const values = r.raw('values');
      if (!Array.isArray(values)) r.fail('values', 'is required (a non-empty list)');
      return listParam(name, values as unknown[], source, type, scalingRaw);
    }
    case 'fixed':
      if (!('value' in (v as object))) r.fail('value', 'is required for type fixed');
      return { name, type: 'fixed', value: r.raw('value') };
    default:
      return r.fail('type', `has unknown type '${type}' (use integer, float, double, discrete or categorical)`);
  }
}

function numericParam(
  name: string,
  type: 'float' | 'integer',
  r: ConfigReader,
  scalingRaw: string | undefined,
  defaultGrid: number,
): ParamSpec {
  let scaling: ScalingType = 'uniform';
  if (scalingRaw !== undefined) {
    const sc = SCALINGS[scalingRaw];
    if (!sc)
      r.fail(
        'scalingType',
        `has unknown scaling '${scalingRaw}' (use linear, uniform, loguniform, normal or lognormal)`,
      );
    scaling = sc;
  }
  const gridSize = r.integer('gridSize', defaultGrid, { min: 1 });
  const integer = type === 'integer';
  if (scaling === 'normal' || scaling === 'lognormal') {
    const mu = r.number('mu');
    const sigma = r.number('sigma');
    if (sigma <= 0) r.fail('sigma', `must be > 0, got ${sigma}`);
    const min = r.number('min', -Infinity, { integer });
    const max = r.number('max', Infinity, { integer });
    if (min > max) r.fail('min', `(${min}) must not exceed max (${max})`);
    if (scaling === 'lognormal' && min < 0) r.fail('min', `must be >= 0 for lognormal scaling, got ${min}`);
    if (integer && (!Number.isFinite(min) || !Number.isFinite(max))) {
      r.fail(Number.isFinite(min) ? 'max' : 'min', 'is required for an integer parameter');
    }
    return { name, type, min, max, scaling, mu, sigma, gridSize };
  }
  const min = r.number('min', undefined, { integer });
  const max = r.number('max', undefined, { integer });
  if (min > max) r.fail('min', `(${min}) must not exceed max (${max})`);
  if (scaling === 'loguniform' && min <= 0) {
    throw new OcropsError(
      'OCROPS_SWEEP_CONFIG',
      `${r.source}: field 'parameters.${name}.min' must be > 0 for loguniform scaling, got ${min}`,
      { hint: 'a log scale cannot reach 0: use a small positive min such as 1e-6, or scalingType: uniform' },
    );
  }
  return { name, type, min, max, scaling, gridSize };
}

function listParam(
  name: string,
  values: unknown[],
  source: string,
  type: 'discrete' | 'categorical' | undefined,
  scalingRaw?: string,
): ParamSpec {
  if (values.length === 0) fail(source, `${name}.values`, 'must not be empty', 'list at least one value');
  const allNumbers = values.every((x) => typeof x === 'number' && Number.isFinite(x));
  const kind = type ?? (allNumbers ? 'discrete' : 'categorical');
  const seen = new Set<string>();
  for (const x of values) {
    const key = JSON.stringify(x);
    if (seen.has(key)) fail(source, `${name}.values`, `lists ${key} twice`, 'remove the duplicate');
    seen.add(key);
  }
  if (kind === 'discrete') {
    if (!allNumbers) {
      fail(source, `${name}.values`, 'must all be numbers for type discrete', 'use type categorical for strings');
    }
    let scaling: 'rank' | 'uniform' | 'loguniform' = 'rank';
    if (scalingRaw !== undefined) {
      const sc = SCALINGS[scalingRaw];
      if (sc !== 'uniform' && sc !== 'loguniform') {
        fail(
          source,
          `${name}.scalingType`,
          `'${scalingRaw}' is not supported for discrete values (use linear or loguniform)`,
        );
      }
      scaling = sc;
    }
    const sorted = [...(values as number[])].sort((a, b) => a - b);
    if (scaling === 'loguniform' && sorted[0] <= 0) {
      fail(source, `${name}.values`, `must all be > 0 for loguniform scaling, got ${sorted[0]}`);
    }
    return { name, type: 'discrete', values: sorted, scaling };
  }
  if (!values.every((x) => ['string', 'number', 'boolean'].includes(typeof x))) {
    fail(source, `${name}.values`, 'must be strings, numbers or booleans');
  }
  return { name, type: 'categorical', values: values as Array<string | number | boolean> };
}
