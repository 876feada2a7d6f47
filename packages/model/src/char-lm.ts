/**
 * A character n-gram language model over a model's class ids, for CTC prefix beam search (shallow fusion: each
 * character a prefix gains adds `weight * log P_lm(char | previous order-1 characters) + bonus` to its score).
 *
 * Estimated from the training split's labels with interpolated Witten-Bell smoothing down to a uniform distribution,
 * so every character of the charset keeps a non-zero probability. Class id 0 (the CTC blank, never a character of a
 * line) stands for the line's boundary: as context it is the line's start, as the predicted id its end.
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
  private readonly counts: Map<string, Counts>;
  /** log P(. | context) over every id, per context key (filled on first use) */
  private readonly cache = new Map<string, Float64Array>();

  private constructor(order: number, classes: number, lines: number, counts: Map<string, Counts>) {
    this.order = order;
    this.classes = classes;
    this.lines = lines;
    this.counts = counts;
  }

  /**
   * Estimates the model from label lines given as class-id sequences (no blanks).
   * @param order n of the n-gram (>= 1; 1 = character frequencies alone)
   * @param classes the model's number of classes (blank included)
   */
  static estimate(lines: readonly (readonly number[])[], order: number, classes: number): CharNgramLm {
    if (!Number.isInteger(order) || order < 1) {
      throw new OcropsError('OCROPS_LM_INVALID', `language model order must be an integer >= 1, got ${order}`);
    }
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
        for (let n = 0; n < order && n <= i; n++) add(padded.slice(i - n, i), id);
      }
    }
    return new CharNgramLm(order, classes, lines.length, counts);
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
    const counts = new Map<string, Counts>();
    for (const [key, value] of Object.entries(contexts)) {
      if (!Array.isArray(value)) bad(`context '${key}' is malformed`);
      const next = new Map(value);
      counts.set(key, { total: [...next.values()].reduce((s, n) => s + n, 0), next });
    }
    return new CharNgramLm(order, n, Number((j as CharLmJson).lines) || 0, counts);
  }

  toJSON(): CharLmJson {
    const contexts: Record<string, ContextCounts> = {};
    for (const [key, c] of this.counts) contexts[key] = [...c.next];
    return { format: CHAR_LM_FORMAT, order: this.order, classes: this.classes, lines: this.lines, contexts };
  }

  /** The context key of the ids before a position: the last order - 1 of them, the line's start padded with 0. */
  contextOf(prefix: readonly number[]): string {
    const n = this.order - 1;
    if (n === 0) return '';
    const ctx = prefix.length >= n ? prefix.slice(prefix.length - n) : [BOUNDARY, ...prefix];
    return ctx.join(',');
  }

  /** log P(id | context) for every id (index 0: the end of the line), for a key made by `contextOf`. */
  logProbs(context: string): Float64Array {
    let lp = this.cache.get(context);
    if (!lp) {
      if (this.cache.size > 100_000) this.cache.clear();
      const p = this.probs(context === '' ? [] : context.split(',').map(Number));
      lp = p.map(Math.log);
      this.cache.set(context, lp);
    }
    return lp;
  }

  /** Interpolated Witten-Bell: P(id | h) = (c(h, id) + types(h) P(id | h')) / (c(h) + types(h)), h' = h minus its oldest. */
  private probs(ctx: number[]): Float64Array {
    const lower = ctx.length === 0 ? new Float64Array(this.classes).fill(1 / this.classes) : this.probs(ctx.slice(1));
    const c = this.counts.get(ctx.join(','));
    if (!c) return lower;
    const types = c.next.size;
    const out = new Float64Array(this.classes);
    for (let k = 0; k < this.classes; k++) out[k] = (types * lower[k]) / (c.total + types);
    for (const [k, n] of c.next) out[k] += n / (c.total + types);
    return out;
  }
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
