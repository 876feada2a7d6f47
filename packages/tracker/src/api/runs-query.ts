// The runs query language of the runs table, one implementation for the server (`GET /api/ocrops/runs?filter=&sort=`)
// and the dashboard: column paths on a run row, filter expressions (parse + evaluate) and sorting. Pure: no I/O.
//
// Rules (also in packages/tracker/README.md, "Runs query language"):
// - A column is `metrics.<name>` (the last value), `metrics.<name>.<last|min|max|step|epoch|count|lastTimestamp>`,
//   `params.<name>`, `others.<name>`, `name` (the experiment name), `tags`, or a row field (`status`, `startTimeMillis`).
//   Metric names may contain dots: `metrics.val.loss.min` is the `min` of `val.loss`.
// - A filter is conditions `<column><op><value>` joined by `and` (any case) or `&&`. Operators: `<` `<=` `>` `>=`
//   `=` (also `==`) `!=` and `~` (contains, case-insensitive). Values may be quoted with "..." or '...' to hold spaces.
// - Numbers compare numerically when both sides are numbers (or numeric strings); everything else compares as text.
// - `tags` is a list: `tags=best` means "has the tag best", `tags!=best` "does not have it", `tags~be` "some tag
//   contains be"; `<`/`>` on tags match nothing.
// - A missing value (no such metric/param, or null) fails every condition except `!=`.
// - Sorting puts missing values last in both orders; text sorts in natural order (`run-2` before `run-10`).
import type { RunRow } from './replies.js';

export type FilterOp = '<' | '<=' | '>' | '>=' | '=' | '!=' | '~';

/** One condition of a filter: `column op value`. */
export interface FilterCondition {
  column: string;
  op: FilterOp;
  value: string;
}

/** A filter expression that does not parse; the message names the part and shows the expected form. */
export class RunsQuerySyntaxError extends Error {
  override readonly name = 'RunsQuerySyntaxError';
}

/** A run row, optionally with its "other" values (`others.<name>` columns). */
export type QueryRow = RunRow & { others?: Record<string, unknown> };

const SUMMARY_FIELDS = new Set(['last', 'min', 'max', 'step', 'epoch', 'count', 'lastTimestamp']);

/** Value of a column path on a run row (undefined when the run has no such value). */
export function columnValue(run: QueryRow, column: string): unknown {
  if (column.startsWith('metrics.')) {
    const rest = column.slice('metrics.'.length);
    const dot = rest.lastIndexOf('.');
    const field = dot > 0 ? rest.slice(dot + 1) : '';
    if (SUMMARY_FIELDS.has(field)) {
      const s = run.metrics[rest.slice(0, dot)];
      return s ? s[field as keyof typeof s] : undefined;
    }
    return run.metrics[rest]?.last;
  }
  if (column.startsWith('params.')) return run.params[column.slice('params.'.length)];
  if (column.startsWith('others.')) return run.others?.[column.slice('others.'.length)];
  if (column === 'name') return run.experimentName;
  return (run as unknown as Record<string, unknown>)[column];
}

const CONDITION =
  /\s*([A-Za-z_][\w.\-/:]*)\s*(<=|>=|!=|==|=|<|>|~)\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s]+)\s*(?:\band\b|&&|$)/iy;

/**
 * Parses `metrics.val_loss.min<0.5 and params.inner_dim=128 and tags~best` into conditions. An empty expression
 * gives no conditions. Throws RunsQuerySyntaxError naming the part that does not parse.
 */
export function parseFilter(expr: string): FilterCondition[] {
  const out: FilterCondition[] = [];
  const text = expr.trim();
  let pos = 0;
  while (pos < text.length) {
    CONDITION.lastIndex = pos;
    const m = CONDITION.exec(text);
    if (!m)
      throw new RunsQuerySyntaxError(
        `filter: cannot parse "${text.slice(pos, pos + 40)}" (expected <column><op><value> joined by "and", e.g. metrics.val_loss.min<0.5 and params.lr=0.001)`,
      );
    out.push({ column: m[1], op: (m[2] === '==' ? '=' : m[2]) as FilterOp, value: unquote(m[3]) });
    pos = CONDITION.lastIndex;
  }
  return out;
}

function unquote(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) return raw.slice(1, -1);
  return raw;
}

function asNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Orders two present values: numerically when both are numbers (or numeric strings), else as text in natural order. */
export function compareValues(a: unknown, b: unknown): number {
  const na = asNumber(a);
  const nb = asNumber(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return asText(a).localeCompare(asText(b), 'en', { numeric: true });
}

const missing = (v: unknown) => v === undefined || v === null;

/** True when one value satisfies one condition (the rules at the top of this file). */
export function conditionHolds(v: unknown, c: FilterCondition): boolean {
  if (missing(v)) return c.op === '!=';
  if (c.op === '~') {
    const needle = c.value.toLowerCase();
    const items = Array.isArray(v) ? v : [v];
    return items.some((x) => asText(x).toLowerCase().includes(needle));
  }
  if (Array.isArray(v)) {
    const has = v.some((x) => asText(x) === c.value);
    return c.op === '=' ? has : c.op === '!=' ? !has : false;
  }
  const d = compareValues(v, c.value);
  switch (c.op) {
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
    case '=':
      return d === 0;
    case '!=':
      return d !== 0;
  }
}

/** True when the run satisfies every condition. */
export function matchesFilter(run: QueryRow, conditions: readonly FilterCondition[]): boolean {
  return conditions.every((c) => conditionHolds(columnValue(run, c.column), c));
}

/** The runs that satisfy a filter expression, in their order. Throws RunsQuerySyntaxError for a bad expression. */
export function filterRuns<T extends QueryRow>(runs: readonly T[], expr: string): T[] {
  const conditions = parseFilter(expr);
  return conditions.length ? runs.filter((r) => matchesFilter(r, conditions)) : [...runs];
}

/** Sorts runs by a column (missing values last in both orders); stable, returns a new array. */
export function sortRuns<T extends QueryRow>(runs: readonly T[], column: string, order: 'asc' | 'desc'): T[] {
  const sign = order === 'desc' ? -1 : 1;
  return runs
    .map((r) => ({ r, v: columnValue(r, column) }))
    .sort((a, b) => {
      const am = missing(a.v);
      const bm = missing(b.v);
      if (am || bm) return am && bm ? 0 : am ? 1 : -1;
      return sign * compareValues(a.v, b.v);
    })
    .map((x) => x.r);
}

/**
 * Names (parameters or metric columns) whose values are not all equal across the runs: the "only differing
 * columns" toggle keeps these. `get` reads a run's value for a name.
 */
export function differingNames<T>(
  runs: readonly T[],
  names: string[],
  get: (run: T, name: string) => unknown,
): string[] {
  return names.filter((name) => {
    let first: string | undefined;
    for (const run of runs) {
      const v = JSON.stringify(get(run, name) ?? null);
      if (first === undefined) first = v;
      else if (v !== first) return true;
    }
    return false;
  });
}
