// Size limits the JSON schemas cannot express: free-form values (parameters, "other" values, system details) and
// sweep configs, whose sizes decide how much work every suggestion costs. Violations get 400 (or 413 for a whole
// config too large) naming the field.
import { HttpError } from './http-error.js';

/** Largest JSON text of one parameter / "other" value / system-details field. */
export const MAX_VALUE_CHARS = 100_000;
/** Longest experiment name (also when set through `log-other Name`). */
export const MAX_EXPERIMENT_NAME = 500;
/** Sweep configs: JSON size, parameters, values per parameter, grid points per axis and in total, trials per set. */
export const SWEEP_LIMITS = {
  configChars: 64 * 1024,
  parameters: 100,
  values: 10_000,
  gridSize: 1000,
  gridPoints: 100_000,
  trials: 1000,
};

/** Throws 400 when `value` serialises to more than `max` characters. */
export function checkValueSize(field: string, value: unknown, max = MAX_VALUE_CHARS): void {
  const n = value === undefined ? 0 : JSON.stringify(value).length;
  if (n > max) throw new HttpError(400, `${field}: value is ${n} characters of JSON; at most ${max} are stored`);
}

/** The experiment name set through `log-other Name`: a string of at most MAX_EXPERIMENT_NAME characters. */
export function checkExperimentName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_EXPERIMENT_NAME)
    throw new HttpError(
      400,
      `${field}: the experiment name must be a string of at most ${MAX_EXPERIMENT_NAME} characters`,
    );
  return value;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Bounds a Comet optimizer config before it is stored, so that every later suggestion is bounded too. */
export function checkSweepConfig(config: Obj): void {
  const L = SWEEP_LIMITS;
  const chars = JSON.stringify(config).length;
  if (chars > L.configChars) throw new HttpError(413, `config: ${chars} characters of JSON; at most ${L.configChars}`);
  const spec = isObj(config.spec) ? config.spec : {};
  const intField = (field: string, v: unknown, max: number) => {
    if (typeof v === 'number' && v > max)
      throw new HttpError(400, `${field}: ${v} is more than the server allows (${max})`);
  };
  intField('config.spec.gridSize', spec.gridSize, L.gridSize);
  intField('config.trials', config.trials, L.trials);
  const params = isObj(config.parameters) ? config.parameters : {};
  const names = Object.keys(params);
  if (names.length > L.parameters)
    throw new HttpError(400, `config.parameters: ${names.length} parameters; at most ${L.parameters}`);
  const defaultGrid = typeof spec.gridSize === 'number' ? spec.gridSize : 10;
  let gridPoints = 1;
  for (const name of names) {
    const p = params[name];
    if (!isObj(p)) continue;
    intField(`config.parameters.${name}.gridSize`, p.gridSize, L.gridSize);
    if (Array.isArray(p.values) && p.values.length > L.values)
      throw new HttpError(400, `config.parameters.${name}.values: ${p.values.length} values; at most ${L.values}`);
    gridPoints *= axisSize(p, defaultGrid);
  }
  if (config.algorithm === 'grid' && gridPoints > L.gridPoints)
    throw new HttpError(
      400,
      `config.parameters: the grid has ${gridPoints} points; at most ${L.gridPoints} (lower gridSize or the values per parameter)`,
    );
}

/** Grid points along one parameter: its values, or gridSize points of a numeric range (fewer for a short integer range). */
function axisSize(p: Obj, defaultGrid: number): number {
  if (Array.isArray(p.values)) return Math.max(1, p.values.length);
  if (p.type === 'float' || p.type === 'integer' || p.type === 'double') {
    const size = typeof p.gridSize === 'number' ? p.gridSize : defaultGrid;
    if (p.type === 'integer' && typeof p.min === 'number' && typeof p.max === 'number')
      return Math.max(1, Math.min(size, p.max - p.min + 1));
    return Math.max(1, size);
  }
  return 1;
}
