// The comet_ml SDK's project query (`API.query(workspace, project, Metric("loss") < 0.5 & Parameter("lr") == 0.1)`):
// the column list it types its predicates with (`project/column-names`) and the evaluation of its predicate tree
// (`project/query`) against each run's last metric values, parameters, others, tags and metadata.
import { HttpError } from './http-error.js';

/** What a predicate can look at in one run. */
export interface QueryRun {
  experimentKey: string;
  /** Last value of each metric. */
  metrics: Record<string, number | null>;
  params: Record<string, unknown>;
  others: Record<string, unknown>;
  tags: string[];
  metadata: Record<string, unknown>;
}

export interface QueryColumn {
  name: string;
  source: 'metrics' | 'params' | 'log_other' | 'tag' | 'metadata';
  type: 'double' | 'string' | 'boolean';
}

type Rule = Record<string, any>;

function typeOf(values: unknown[]): QueryColumn['type'] {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every((v) => typeof v === 'boolean')) return 'boolean';
  if (present.length && present.every((v) => typeof v === 'number')) return 'double';
  return 'string';
}

/** The query columns of a project's runs: every metric (double), parameter and other (typed by their values), tag, and metadata field. */
export function queryColumns(runs: QueryRun[]): QueryColumn[] {
  const cols: QueryColumn[] = [];
  const collect = (source: QueryColumn['source'], pick: (r: QueryRun) => Record<string, unknown>) => {
    const byName = new Map<string, unknown[]>();
    for (const r of runs) for (const [k, v] of Object.entries(pick(r))) byName.set(k, [...(byName.get(k) ?? []), v]);
    for (const [name, values] of [...byName].sort(([a], [b]) => a.localeCompare(b)))
      cols.push({ name, source, type: source === 'metrics' ? 'double' : typeOf(values) });
  };
  collect('metrics', (r) => r.metrics);
  collect('params', (r) => r.params);
  collect('log_other', (r) => r.others);
  collect('metadata', (r) => r.metadata);
  for (const tag of [...new Set(runs.flatMap((r) => r.tags))].sort())
    cols.push({ name: tag, source: 'tag', type: 'string' });
  return cols;
}

function valueOf(run: QueryRun, source: string, name: string): { found: boolean; value: unknown } {
  const table: Record<string, unknown> | undefined =
    source === 'metrics'
      ? run.metrics
      : source === 'params'
        ? run.params
        : source === 'log_other'
          ? run.others
          : source === 'metadata'
            ? run.metadata
            : undefined;
  if (source === 'tag') return { found: run.tags.includes(name), value: run.tags.includes(name) ? name : null };
  if (!table)
    throw new HttpError(
      400,
      `predicates: source "${source}" is not supported (metrics, params, log_other, metadata, tag)`,
    );
  return Object.hasOwn(table, name) ? { found: true, value: table[name] } : { found: false, value: null };
}

const asNumber = (v: unknown): number | null => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};

function compare(op: string, actual: unknown, wanted: unknown): boolean {
  const s =
    actual === null || actual === undefined ? null : typeof actual === 'string' ? actual : JSON.stringify(actual);
  const a = asNumber(actual);
  switch (op) {
    case 'is_null':
      return actual === null || actual === undefined;
    case 'is_empty':
      return s === '' || s === null;
    case 'equal':
    case 'not_equal': {
      const w = asNumber(wanted);
      const eq =
        a !== null && w !== null
          ? a === w
          : s !== null && s === (typeof wanted === 'string' ? wanted : JSON.stringify(wanted));
      return op === 'equal' ? eq : s !== null && !eq;
    }
    case 'less':
    case 'less_or_equal':
    case 'greater':
    case 'greater_or_equal': {
      const w = asNumber(wanted);
      if (a === null || w === null) return false;
      return op === 'less' ? a < w : op === 'less_or_equal' ? a <= w : op === 'greater' ? a > w : a >= w;
    }
    case 'between':
    case 'not_between': {
      const [lo, hi] = Array.isArray(wanted) ? wanted.map(asNumber) : [null, null];
      if (a === null || lo === null || hi === null) return false;
      const inside = a >= lo && a <= hi;
      return op === 'between' ? inside : !inside;
    }
    case 'contains':
    case 'not_contains':
      if (s === null) return false;
      return op === 'contains' ? s.includes(String(wanted)) : !s.includes(String(wanted));
    case 'begins_with':
    case 'not_begins_with':
      if (s === null) return false;
      return op === 'begins_with' ? s.startsWith(String(wanted)) : !s.startsWith(String(wanted));
    case 'ends_with':
    case 'not_ends_with':
      if (s === null) return false;
      return op === 'ends_with' ? s.endsWith(String(wanted)) : !s.endsWith(String(wanted));
    default:
      throw new HttpError(400, `predicates: operator "${op}" is not supported`);
  }
}

/** One rule or a nested `{condition, rules}` group; `source` comes from the rule or its enclosing predicate. */
function matchRule(run: QueryRun, rule: Rule, source: string): boolean {
  if (Array.isArray(rule.rules)) return matchGroup(run, rule, rule.source ?? source);
  const src = rule.source ?? source;
  const name = String(rule.field ?? rule.id);
  const { found, value } = valueOf(run, src, name);
  // a negated "is null" (`!= None`) arrives as is_null + negated on the predicate; see matchPredicate
  if (!found) return rule.operator === 'is_null' || rule.operator === 'is_empty';
  return compare(String(rule.operator), value, rule.value);
}

function matchGroup(run: QueryRun, group: Rule, source: string): boolean {
  const rules = group.rules as Rule[];
  const or = String(group.condition ?? 'AND').toUpperCase() === 'OR';
  return or ? rules.some((r) => matchRule(run, r, source)) : rules.every((r) => matchRule(run, r, source));
}

/**
 * Whether a run satisfies every predicate of an SDK query (they are ANDed). The SDK inverts comparison operators itself
 * for `~` (`~(x < 1)` arrives as `greater_or_equal`); only null/empty tests, which have no inverse operator, are
 * inverted here when the predicate says `negated`.
 */
export function matchesPredicates(run: QueryRun, predicates: unknown): boolean {
  if (!Array.isArray(predicates)) throw new HttpError(400, 'body/predicates must be an array');
  return predicates.every((p: Rule) => {
    if (!p || typeof p !== 'object' || !p.query || !Array.isArray(p.query.rules))
      throw new HttpError(400, 'body/predicates: each predicate needs {source, query: {condition, rules}}');
    const hit = matchGroup(run, p.query, String(p.source ?? ''));
    const nullTest =
      (p.query.rules as Rule[]).length === 1 && ['is_null', 'is_empty'].includes(p.query.rules[0].operator);
    return p.negated && nullTest ? !hit : hit;
  });
}
