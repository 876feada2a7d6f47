/**
 * Config schemas: every config kind is one TypeBox schema (snake_case YAML keys, defaults in the schema). This module
 * reads YAML keeping node positions, renames deprecated keys (the camelCase spelling of a snake_case key, or a schema's
 * own `aliases`) with one warning each, applies the schema's defaults, validates, and throws one OcropsError that lists
 * every problem as `file:line:col: field.path: what is wrong; allowed: ...`.
 */
import { parseYamlDocument, readConfigText } from './config.js';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document } from 'yaml';
import { OcropsError } from './errors.js';

/** Where a config value was written. `line` 0 = no line (e.g. a `--set` override). */
export interface ConfigPosition {
  file: string;
  line: number;
  col: number;
}

/** Finds where the value at a key path was written (the deepest existing mapping on the way when it is absent). */
export type ConfigLocator = (path: readonly string[]) => ConfigPosition | undefined;

/** A parsed config document: its plain value and a locator of its keys. */
export interface ConfigDocument {
  value: unknown;
  locate: ConfigLocator;
  source: string;
}

/** One problem found in a config. */
export interface ConfigIssue {
  path: string[];
  message: string;
  allowed?: string;
}

/** Reports a problem at a key path from a `check` hook. */
export type ReportIssue = (path: readonly string[], message: string, allowed?: string) => void;

export interface ValidateConfigOptions<T> {
  /** Names the config in messages (a file path, or e.g. `<inline>`). */
  source: string;
  /** Positions of the keys (from {@link parseConfigDocument}); without it messages name only `source`. */
  locate?: ConfigLocator;
  /** Receives deprecation warnings (default: printed to stderr once per process). */
  warn?: (message: string) => void;
  /**
   * Checks that one schema cannot express (e.g. one field depending on another); runs after the type checks pass.
   * `given` is the value before the defaults were applied (to tell a written field from a default).
   */
  check?: (value: T, report: ReportIssue, given: unknown) => void;
}

/** Schema option: deprecated key -> current key of that object (camelCase spellings of snake_case keys need none). */
export interface AliasOptions {
  aliases?: Record<string, string>;
}

/** Parses YAML/JSON text keeping positions; syntax errors name the file, line and column. */
export function parseConfigDocument(text: string, source: string): ConfigDocument {
  const lineCounter = new LineCounter();
  const doc = parseYamlDocument(text, source, lineCounter);
  return { value: doc.toJS(), locate: documentLocator(doc, lineCounter, source), source };
}

/** Reads a YAML/JSON config file keeping positions. */
export function readConfigDocument(path: string): ConfigDocument {
  return parseConfigDocument(readConfigText(path), path);
}

function documentLocator(doc: Document, lc: LineCounter, file: string): ConfigLocator {
  const at = (offset: number | undefined): ConfigPosition | undefined => {
    if (offset === undefined) return undefined;
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  return (path) => {
    let node: unknown = doc.contents;
    let best = at((node as { range?: [number] } | null)?.range?.[0]);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
        if (!pair) break;
        best = at((pair.key as { range?: [number] }).range?.[0]) ?? best;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        best = at((item as { range?: [number] }).range?.[0]) ?? best;
        node = item;
      } else break;
    }
    return best;
  };
}

/** Formats a position as `file:line:col` (just `file` without a line). */
export function formatPosition(p: ConfigPosition): string {
  return p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
}

/** `batch_size` -> `batchSize`. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `batchSize` -> `batch_size`. */
export function camelToSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

type Json = Record<string, unknown>;
const isMapping = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The object variants of a schema (itself, or the members of a union) and the item schema of arrays. */
function objectVariants(schema: TSchema): TSchema[] {
  if (schema.type === 'object' && schema.properties) return [schema];
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).flatMap(objectVariants);
  return [];
}

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** The known key nearest to `key`, if it is close enough to be a likely typo. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const k = camelToSnake(key);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of known) {
    const dist = Math.min(distance(k, c), distance(key.toLowerCase(), c.toLowerCase()));
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

interface Walk {
  issues: ConfigIssue[];
  renamed: { path: string[]; from: string; to: string }[];
}

/**
 * Renames deprecated keys in place and reports unknown ones, following the schema (records keep their own keys;
 * unions of mappings accept the keys of every member).
 */
function normaliseKeys(schema: TSchema, value: unknown, path: string[], w: Walk): void {
  if (Array.isArray(value)) {
    if (schema.type === 'array' && schema.items && !Array.isArray(schema.items)) {
      value.forEach((v, i) => normaliseKeys(schema.items as TSchema, v, [...path, String(i)], w));
    }
    return;
  }
  if (!isMapping(value)) return;
  if (schema.type === 'object' && schema.patternProperties && !schema.properties) {
    const inner = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
    for (const [k, v] of Object.entries(value)) normaliseKeys(inner, v, [...path, k], w);
    return;
  }
  const variants = objectVariants(schema);
  if (variants.length === 0) return;
  const known = new Map<string, TSchema>();
  const aliases: Record<string, string> = {};
  for (const v of variants) {
    for (const [k, s] of Object.entries(v.properties as Record<string, TSchema>)) known.set(k, s);
    Object.assign(aliases, (v as AliasOptions).aliases ?? {});
  }
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue;
    const target = aliases[key] ?? (known.has(camelToSnake(key)) ? camelToSnake(key) : undefined);
    if (target !== undefined && known.has(target)) {
      if (target in value) {
        w.issues.push({
          path: [...path, key],
          message: `is the deprecated name of ${target}, which is also given; remove ${key}`,
        });
        continue;
      }
      value[target] = value[key];
      delete value[key];
      w.renamed.push({ path: [...path, target], from: key, to: target });
      continue;
    }
    const hint = didYouMean(key, [...known.keys()]);
    w.issues.push({
      path: [...path, key],
      message: `is not a known field${hint ? ` (did you mean ${hint}?)` : ''}`,
      allowed: [...known.keys()].join(', '),
    });
  }
  for (const [k, s] of known) if (value[k] !== undefined) normaliseKeys(s, value[k], [...path, k], w);
}

/** What a schema allows, for messages: enum values, a range, or its type. */
export function allowedOf(schema: TSchema): string | undefined {
  if (typeof schema.allowed === 'string') return schema.allowed;
  if (Array.isArray(schema.anyOf)) {
    const parts = (schema.anyOf as TSchema[]).map((s) =>
      s.const !== undefined ? String(s.const) : (allowedOf(s) ?? s.type),
    );
    return parts.filter(Boolean).join(', ');
  }
  if (schema.const !== undefined) return String(schema.const);
  if (schema.type === 'number' || schema.type === 'integer') {
    const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? `>${schema.exclusiveMinimum}` : undefined);
    const hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? `<${schema.exclusiveMaximum}` : undefined);
    const kind = `${schema.type === 'integer' ? 'an integer' : 'a number'}${schema.multipleOf ? ` multiple of ${schema.multipleOf}` : ''}`;
    if (lo !== undefined && hi !== undefined) return `${kind} in ${lo}..${hi}`;
    if (lo !== undefined) return `${kind} >= ${String(lo).replace(/^>/, '> ')}`.replace('>= > ', '> ');
    if (hi !== undefined) return `${kind} <= ${hi}`;
    return kind;
  }
  if (schema.type === 'boolean') return 'true, false';
  if (schema.type === 'string') return schema.pattern ? `a string matching ${schema.pattern}` : 'a string';
  if (schema.type === 'array') {
    const n = schema.minItems !== undefined && schema.minItems === schema.maxItems ? `${schema.minItems} ` : '';
    const item = schema.items && !Array.isArray(schema.items) ? allowedOf(schema.items as TSchema) : undefined;
    return `a list of ${n}${item ? `(${item})` : 'values'}`;
  }
  if (schema.type === 'object') return 'a mapping';
  return undefined;
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function issueOf(e: ValueError): ConfigIssue {
  const path = e.path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = e.value === undefined;
  const isEnum = Array.isArray(e.schema.anyOf) && (e.schema.anyOf as TSchema[]).every((s) => s.const !== undefined);
  const what = isEnum
    ? 'is not one of the allowed values'
    : Array.isArray(e.schema.anyOf)
      ? 'is not of an allowed form'
      : e.message.replace(/^Expected /, 'expected ');
  const message = missing ? 'is required' : `${what}, got ${show(e.value)}`;
  return { path, message, allowed: allowedOf(e.schema) };
}

/** Formats issues as one line each: `file:line:col: field.path: message; allowed: ...`. */
export function formatIssues(issues: readonly ConfigIssue[], source: string, locate?: ConfigLocator): string {
  return issues
    .map((i) => {
      const pos = locate?.(i.path);
      const where = pos ? formatPosition(pos) : source;
      return `${where}: ${i.path.join('.') || '(top level)'}: ${i.message}${i.allowed ? `; allowed: ${i.allowed}` : ''}`;
    })
    .join('\n');
}

/** TypeBox's errors; a mapping that fails a union with one mapping member is checked against that member instead. */
function* typeErrors(schema: TSchema, value: unknown, prefix: string): Generator<ValueError> {
  for (const e of Value.Errors(schema, value)) {
    const members = Array.isArray(e.schema.anyOf) ? objectVariants(e.schema) : [];
    if (members.length === 1 && isMapping(e.value)) {
      yield* typeErrors(members[0], Value.Default(members[0], structuredClone(e.value)), `${prefix}${e.path}`);
    } else yield { ...e, path: `${prefix}${e.path}` };
  }
}

const warned = new Set<string>();
/** Prints a config warning (e.g. a deprecated key) to stderr, once per process. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`warning: ${message}\n`);
}

/**
 * Validates a plain config value against a schema: renames deprecated keys (warning once per key), rejects unknown
 * ones, fills the schema's defaults, checks types, enums and ranges, then runs `check`. Throws one
 * `OCROPS_CONFIG_INVALID` error listing every problem with its position. Returns a new value (the input is not changed).
 */
export function validateConfig<T extends TSchema>(
  schema: T,
  input: unknown,
  opts: ValidateConfigOptions<Static<T>>,
): Static<T> {
  const value = structuredClone(input ?? {}) as unknown;
  const w: Walk = { issues: [], renamed: [] };
  normaliseKeys(schema, value, [], w);
  const warn = opts.warn ?? warnOnce;
  for (const r of w.renamed) {
    const pos = opts.locate?.([...r.path.slice(0, -1), r.from]);
    const where = pos ? (pos.line > 0 ? `${pos.file}:${pos.line}` : pos.file) : opts.source;
    warn(`${where}: ${r.from} is deprecated, use ${r.to}`);
  }
  const issues = w.issues;
  const given = structuredClone(value);
  const filled = Value.Default(schema, value);
  const seen = new Set(issues.map((i) => i.path.join('.')));
  // values of the wrong type first: applying defaults may coerce them (a list becomes a mapping) and hide the mistake
  const wrong = [...typeErrors(schema, given, '')].filter((e) => e.value !== undefined);
  for (const e of [...wrong, ...typeErrors(schema, filled, '')]) {
    const issue = issueOf(e);
    const key = issue.path.join('.');
    // one problem per field (TypeBox reports a missing property twice), and none inside a field already reported
    if ([...seen].some((s) => key === s || key.startsWith(`${s}.`) || (s !== '' && s.startsWith(`${key}.`)))) continue;
    seen.add(key);
    issues.push(issue);
  }
  if (issues.length === 0 && opts.check) {
    opts.check(
      filled as Static<T>,
      (path, message, allowed) => issues.push({ path: [...path], message, allowed }),
      given,
    );
  }
  if (issues.length > 0) {
    const n = issues.length;
    throw new OcropsError(
      'OCROPS_CONFIG_INVALID',
      `${opts.source}: ${n} problem${n > 1 ? 's' : ''} in the config:\n${formatIssues(issues, opts.source, opts.locate)}`,
      {
        hint: 'fix the fields named above (each line gives file:line:col and what is allowed)',
      },
    );
  }
  return filled as Static<T>;
}

/**
 * Loads a config: `input` is a file path, or YAML text when `opts.text` is true (then `opts.source` names it).
 * See {@link validateConfig} for what is checked.
 */
export function loadConfig<T extends TSchema>(
  schema: T,
  input: string,
  opts: Partial<ValidateConfigOptions<Static<T>>> & { text?: boolean } = {},
): Static<T> {
  const doc = opts.text ? parseConfigDocument(input, opts.source ?? '<inline>') : readConfigDocument(input);
  return validateConfig(schema, doc.value, { ...opts, source: doc.source, locate: opts.locate ?? doc.locate });
}

// ---- snake_case YAML keys <-> camelCase TypeScript properties, in one place ----

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** The camelCase view of a snake_case config type (records keep their keys, tuples stay tuples). */
export type Camelized<T> = T extends readonly unknown[]
  ? { [K in keyof T]: Camelized<T[K]> }
  : T extends object
    ? { [K in keyof T as K extends string ? CamelCase<K> : K]: Camelized<T[K]> }
    : T;

function mapKeys(schema: TSchema, value: unknown, rename: (k: string) => string): unknown {
  if (Array.isArray(value)) {
    const items =
      schema.type === 'array' && schema.items && !Array.isArray(schema.items) ? (schema.items as TSchema) : undefined;
    return items ? value.map((v) => mapKeys(items, v, rename)) : value;
  }
  if (!isMapping(value)) return value;
  if (schema.type === 'object' && schema.patternProperties && !schema.properties) {
    const inner = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapKeys(inner, v, rename)]));
  }
  const props = new Map<string, TSchema>();
  for (const v of objectVariants(schema))
    for (const [k, s] of Object.entries(v.properties as Record<string, TSchema>)) props.set(k, s);
  if (props.size === 0) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const s = props.get(k) ?? props.get(camelToSnake(k));
    out[rename(k)] = s ? mapKeys(s, v, rename) : v;
  }
  return out;
}

/** A validated config with the schema's snake_case keys turned into camelCase properties. */
export function camelizeConfig<T extends TSchema>(schema: T, value: Static<T>): Camelized<Static<T>> {
  return mapKeys(schema, value, snakeToCamel) as Camelized<Static<T>>;
}

/** The inverse of {@link camelizeConfig}: an in-code object back to the schema's YAML keys. */
export function snakeizeConfig(schema: TSchema, value: unknown): unknown {
  return mapKeys(schema, value, camelToSnake);
}
