/**
 * A character n-gram language model over a model's class ids, for CTC prefix beam search (shallow fusion: each
 * character a prefix gains adds `weight * log P_lm(char | previous order-1 characters) + bonus` to its score).
 *
 * Estimated from the training split's labels with interpolated Witten-Bell smoothing down to a uniform distribution,
 * so every character of the charset keeps a non-zero probability. Class id 0 (the CTC blank, never a character of a
 * line) stands for the line's boundary: as context it is the line's start, as the predicted id its end.
 *
 * Groups of interchangeable characters (e.g. the digits of house numbers, which follow no pattern a few thousand
 * lines could teach) are counted as one token: the model predicts the group, and each member gets an equal share of
 * its probability. Without groups, a high-order model recalls the numbers of its training lines and pulls the
 * search towards them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import type { CtcDecoding } from './contract.js';

/** The file format of a saved language model. */
export const CHAR_LM_FORMAT = 'ocrops-char-lm/1';

/** The language model's file in a model (or export) folder, beside `ocrops.json`. */
export const LM_FILE = 'lm.json';

/** The ids seen after one context, with their counts: [id, count] pairs. */
type ContextCounts = Array<[number, number]>;

/** A saved language model. */
export interface CharLmJson {
  format: typeof CHAR_LM_FORMAT;
  /** n: a character is predicted from the n - 1 before it */
  order: number;
  /** number of classes of the model it reads for (blank included): ids are 0 (boundary) .. classes - 1 */
  classes: number;
  /** lines it was estimated from */
  lines: number;
  /** groups of interchangeable class ids (counted as their first id); absent = none */
  groups?: number[][];
  /** counts per context, keyed by the context's ids joined by ',' ('' is the empty context) */
  contexts: Record<string, ContextCounts>;
}

/** The boundary id: the line's start as context, its end as prediction. */
const BOUNDARY = 0;

interface Counts {
  total: number;
  next: Map<number, number>;
}

export class CharNgramLm {
  readonly order: number;
  readonly classes: number;
  readonly lines: number;
  readonly groups: readonly (readonly number[])[];
  private readonly counts: Map<string, Counts>;
  /** the token each id is counted as: its group's first id, else itself */
  private readonly token: Int32Array;
  /** an id's share of its token's probability: 1 / its group's size, else 1 */
  private readonly share: Float64Array;
  /** the uniform distribution over the tokens the smoothing ends in, indexed by id (a token's own id set) */
  private readonly base: Float64Array;
  /** log P(. | context) over every id, per context key (filled on first use) */
  private readonly cache = new Map<string, Float64Array>();

  private constructor(
    order: number,
    classes: number,
    lines: number,
    counts: Map<string, Counts>,
    groups: readonly (readonly number[])[],
    token: Int32Array,
  ) {
    this.order = order;
    this.classes = classes;
    this.lines = lines;
    this.counts = counts;
    this.groups = groups;
    this.token = token;
    this.share = new Float64Array(classes).fill(1);
    for (const g of groups) for (const id of g) this.share[id] = 1 / g.length;
    const tokens = classes - groups.reduce((n, g) => n + g.length - 1, 0);
    this.base = new Float64Array(classes);
    for (let k = 0; k < classes; k++) if (token[k] === k) this.base[k] = 1 / tokens;
  }

  /**
   * Estimates the model from label lines given as class-id sequences (no blanks).
   * @param order n of the n-gram (>= 1; 1 = character frequencies alone)
   * @param classes the model's number of classes (blank included)
   * @param groups interchangeable character ids, each group counted as one token (ids 1..classes - 1, disjoint)
   */
  static estimate(
    lines: readonly (readonly number[])[],
    order: number,
    classes: number,
    groups: readonly (readonly number[])[] = [],
  ): CharNgramLm {
    if (!Number.isInteger(order) || order < 1) {
      throw new OcropsError('OCROPS_LM_INVALID', `language model order must be an integer >= 1, got ${order}`);
    }
    const problem = lmGroupsProblem(groups, classes);
    if (problem) throw new OcropsError('OCROPS_LM_INVALID', `language model groups: ${problem}`);
    const token = tokenOfIds(groups, classes);
    const counts = new Map<string, Counts>();
    const add = (ctx: readonly number[], id: number) => {
      const key = ctx.join(',');
      let c = counts.get(key);
      if (!c) counts.set(key, (c = { total: 0, next: new Map() }));
      c.total++;
      c.next.set(id, (c.next.get(id) ?? 0) + 1);
    };
    for (const line of lines) {
      const padded = [BOUNDARY, ...line, BOUNDARY];
      for (let i = 1; i < padded.length; i++) {
        const id = padded[i];
        if (!Number.isInteger(id) || id < 0 || id >= classes || (id === BOUNDARY && i < padded.length - 1)) {
          throw new OcropsError('OCROPS_LM_INVALID', `label id ${id} is not a character class (1..${classes - 1})`);
        }
        padded[i] = token[id];
        for (let n = 0; n < order && n <= i; n++) add(padded.slice(i - n, i), padded[i]);
      }
    }
    return new CharNgramLm(order, classes, lines.length, counts, groups, token);
  }

  /** Reads a saved model (`toJSON`), checking it fits a model of `classes` classes. */
  static fromJSON(json: unknown, source: string, classes?: number): CharNgramLm {
    const j = json as Partial<CharLmJson> | null;
    const bad = (what: string): never => {
      throw new OcropsError('OCROPS_LM_INVALID', `${source}: ${what}`, {
        hint: 'train the model again with decode.lm set in its config, or remove the file to decode without it',
      });
    };
    if (!j || typeof j !== 'object' || j.format !== CHAR_LM_FORMAT)
      bad(`not an ocrops language model (${CHAR_LM_FORMAT})`);
    const { order, contexts } = j as CharLmJson;
    const n = (j as CharLmJson).classes;
    if (!Number.isInteger(order) || order < 1) bad(`field 'order' must be an integer >= 1`);
    if (!Number.isInteger(n) || n < 2) bad(`field 'classes' must be an integer >= 2`);
    if (classes !== undefined && n !== classes) bad(`it was estimated for ${n} classes, the model has ${classes}`);
    if (!contexts || typeof contexts !== 'object') bad(`field 'contexts' must be an object`);
    const groups = (j as CharLmJson).groups ?? [];
    const problem = lmGroupsProblem(groups, n);
    if (problem) bad(`field 'groups': ${problem}`);
    const token = tokenOfIds(groups, n);
    const counts = new Map<string, Counts>();
    // a group's members share the counts of its first id, so only that id may have its own
    const isPair = (e: unknown) =>
      Array.isArray(e) && e.length === 2 && Number.isInteger(e[0]) && token[e[0]] === e[0] && e[1] > 0;
    for (const [key, value] of Object.entries(contexts)) {
      if (!Array.isArray(value) || !value.every(isPair))
        bad(`context '${key}' must be a list of [class id below ${n} (a group's first), count > 0] pairs`);
      const next = new Map(value);
      counts.set(key, { total: [...next.values()].reduce((s, n) => s + n, 0), next });
    }
    return new CharNgramLm(order, n, Number((j as CharLmJson).lines) || 0, counts, groups, token);
  }

  toJSON(): CharLmJson {
    const contexts: Record<string, ContextCounts> = {};
    for (const [key, c] of this.counts) contexts[key] = [...c.next];
    const { order, classes, lines, groups } = this;
    return {
      format: CHAR_LM_FORMAT,
      order,
      classes,
      lines,
      ...(groups.length ? { groups: groups.map((g) => [...g]) } : {}),
      contexts,
    };
  }

  /** The context key of the ids before a position: the last order - 1 of them, the line's start padded with 0. */
  contextOf(prefix: readonly number[]): string {
    const n = this.order - 1;
    if (n === 0) return '';
    const ctx = prefix.length >= n ? prefix.slice(prefix.length - n) : [BOUNDARY, ...prefix];
    return ctx.map((id) => this.token[id]).join(',');
  }

  /** log P(id | context) for every id (index 0: the end of the line), for a key made by `contextOf`. */
  logProbs(context: string): Float64Array {
    let lp = this.cache.get(context);
    if (!lp) {
      if (this.cache.size > 100_000) this.cache.clear();
      const p = this.probs(context === '' ? [] : context.split(',').map(Number));
      lp = new Float64Array(this.classes);
      for (let k = 0; k < this.classes; k++) lp[k] = Math.log(p[this.token[k]] * this.share[k]);
      this.cache.set(context, lp);
    }
    return lp;
  }

  /**
   * Interpolated Witten-Bell over tokens: P(t | h) = (c(h, t) + types(h) P(t | h')) / (c(h) + types(h)), h' = h minus
   * its oldest; indexed by id, where only a token's own id (its group's first) is set.
   */
  private probs(ctx: number[]): Float64Array {
    const lower = ctx.length === 0 ? this.base : this.probs(ctx.slice(1));
    const c = this.counts.get(ctx.join(','));
    if (!c) return lower;
    const types = c.next.size;
    const out = new Float64Array(this.classes);
    for (let k = 0; k < this.classes; k++) out[k] = (types * lower[k]) / (c.total + types);
    for (const [k, n] of c.next) out[k] += n / (c.total + types);
    return out;
  }
}

/** The token each class id is counted as: its group's first id, else itself. */
function tokenOfIds(groups: readonly (readonly number[])[], classes: number): Int32Array {
  const token = Int32Array.from({ length: classes }, (_, k) => k);
  for (const g of groups) for (const id of g) token[id] = g[0];
  return token;
}

/**
 * What is wrong with groups of interchangeable ids for a model of `classes` classes; undefined when nothing.
 * @param name how the message names group i (a config names its own field)
 */
export function lmGroupsProblem(
  groups: unknown,
  classes: number,
  name: (i: number) => string = (i) => `group ${i}`,
): string | undefined {
  if (!Array.isArray(groups)) return 'must be a list of lists of class ids';
  const groupOf = new Map<number, number>();
  for (const [i, g] of groups.entries()) {
    if (!Array.isArray(g) || new Set(g).size < 2) return `${name(i)} must list at least 2 distinct class ids`;
    for (const id of g) {
      if (!Number.isInteger(id) || id < 1 || id >= classes)
        return `${name(i)}: ${id} is not a character class (1..${classes - 1})`;
      const other = groupOf.get(id);
      if (other === i) return `${name(i)} lists class id ${id} twice`;
      if (other !== undefined) return `${name(i)} shares a character with ${name(other)}`;
      groupOf.set(id, i);
    }
  }
  return undefined;
}

/**
 * The language model a decoding names, read from the model (or export) folder `dir`; undefined when the decoding
 * has none (or is greedy, which does not use one).
 */
export function readDecodingLm(dir: string, decoding: CtcDecoding, classes: number): CharNgramLm | undefined {
  if (decoding.method !== 'beam' || !decoding.lm) return undefined;
  const path = join(dir, decoding.lm.file);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OcropsError('OCROPS_LM_INVALID', `cannot read the language model ${path}: ${(err as Error).message}`, {
      hint: 'copy the whole model folder (lm.json belongs to it), or decode without it (--no-lm)',
    });
  }
  const lm = CharNgramLm.fromJSON(json, path, classes);
  if (lm.order !== decoding.lm.order) {
    throw new OcropsError(
      'OCROPS_LM_INVALID',
      `${path} is a ${lm.order}-gram model, the decoding asks for order ${decoding.lm.order}`,
      { hint: 'set decode.lm.order to the order the model was trained with, or train it again' },
    );
  }
  return lm;
}
