// Column paths and filter expressions of the runs table (`metrics.val_loss.min`, `params.lr`, `startTimeMillis`),
// the same syntax the tracker's `GET /api/ocrops/runs?sort=&filter=` takes.
import type { RunRow } from './api-types.js';

/** Value of a column path for a run: `metrics.<name>.<last|min|max|step>`, `params.<name>`, or a top-level field. */
export function columnValue(run: RunRow, path: string): unknown {
  if (path.startsWith('metrics.')) {
    const rest = path.slice('metrics.'.length);
    const dot = rest.lastIndexOf('.');
    if (dot < 0) return run.metrics[rest]?.last;
    const m = run.metrics[rest.slice(0, dot)];
    return m ? (m as unknown as Record<string, unknown>)[rest.slice(dot + 1)] : undefined;
  }
  if (path.startsWith('params.')) return run.params[path.slice('params.'.length)];
  if (path === 'name') return run.experimentName;
  if (path === 'tags') return run.tags.join(',');
  return (run as unknown as Record<string, unknown>)[path];
}

export type FilterOp = '<' | '<=' | '>' | '>=' | '=' | '!=' | '~';

/** One clause of a filter: `path op value`. */
export interface FilterClause {
  path: string;
  op: FilterOp;
  value: string | number;
}

const CLAUSE = /^\s*([A-Za-z_][\w.\-/:]*)\s*(<=|>=|!=|==|=|<|>|~)\s*(.+?)\s*$/;

/**
 * Parses `metrics.val_loss.min<0.5 and params.inner_dim=128 and tags~best` into clauses (joined by AND).
 * Values may be quoted; numbers compare numerically. Throws SyntaxError naming the bad clause.
 */
export function parseFilter(expr: string): FilterClause[] {
  const text = expr.trim();
  if (text === '') return [];
  return text.split(/\s+and\s+/i).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw new SyntaxError(`bad filter clause "${part}": expected <column><op><value>, e.g. metrics.val_loss.min<0.5`);
    const raw = m[3].replace(/^(['"])(.*)\1$/, '$2');
    const num = Number(raw);
    return {
      path: m[1],
      op: (m[2] === '==' ? '=' : m[2]) as FilterOp,
      value: raw.trim() !== '' && Number.isFinite(num) && !/^['"]/.test(m[3]) ? num : raw,
    };
  });
}

/** True when the run satisfies every clause. A missing value fails every clause except `!=`. */
export function matchesFilter(run: RunRow, clauses: FilterClause[]): boolean {
  return clauses.every((c) => {
    const v = columnValue(run, c.path);
    if (v === undefined || v === null) return c.op === '!=';
    if (c.op === '~') return String(v).toLowerCase().includes(String(c.value).toLowerCase());
    const cmp = compareValues(v, c.value);
    switch (c.op) {
      case '<': return cmp < 0;
      case '<=': return cmp <= 0;
      case '>': return cmp > 0;
      case '>=': return cmp >= 0;
      case '=': return cmp === 0;
      case '!=': return cmp !== 0;
    }
  });
}

/** Orders numbers numerically (also numeric strings), everything else as strings; missing values last. */
export function compareValues(a: unknown, b: unknown): number {
  const am = a === undefined || a === null;
  const bm = b === undefined || b === null;
  if (am || bm) return am && bm ? 0 : am ? 1 : -1;
  const na = typeof a === 'number' ? a : typeof a === 'string' && a.trim() !== '' ? Number(a) : NaN;
  const nb = typeof b === 'number' ? b : typeof b === 'string' && b.trim() !== '' ? Number(b) : NaN;
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}

/** Sorts runs by a column path (missing values last in both orders). Returns a new array. */
export function sortRuns(runs: RunRow[], path: string, order: 'asc' | 'desc'): RunRow[] {
  const dir = order === 'asc' ? 1 : -1;
  return [...runs].sort((x, y) => {
    const a = columnValue(x, path);
    const b = columnValue(y, path);
    const am = a === undefined || a === null;
    const bm = b === undefined || b === null;
    if (am || bm) return am && bm ? 0 : am ? 1 : -1;
    return dir * compareValues(a, b);
  });
}

/**
 * Names (parameters or metric columns) whose values are not all equal across the runs: the "only differing
 * columns" toggle keeps these. `get` reads a run's value for a name.
 */
export function differingNames(runs: RunRow[], names: string[], get: (run: RunRow, name: string) => unknown): string[] {
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
