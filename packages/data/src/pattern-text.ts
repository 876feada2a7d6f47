// Texts drawn from a regular expression, for synthetic lines of a set whose labels follow a format: a licence plate
// `[京沪皖][A-Z][0-9A-Z]{5}`, a serial number, a date. Each character class is drawn uniformly from those of its
// members that the set's charset can write, so a member that is rare in the real labels (a province on 1% of the
// plates) is drawn as often as a common one.
import { OcropsError } from '@ocrops/common';
import type { Rng } from './rng.js';

/** How many repeats past its minimum an open quantifier (`*`, `+`, `{n,}`) draws at most. */
export const OPEN_REPEATS = 4;

/** Largest class drawn without a charset (`[\u4e00-\u9fff]` alone is 20,992 characters: fine; `[^a]` is not). */
const MAX_CLASS_WITHOUT_CHARSET = 65_536;

/** Inclusive code point ranges. */
type Ranges = Array<[number, number]>;

type Node =
  | { kind: 'set'; ranges: Ranges; negated: boolean; source: string }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

/** A node whose character sets are resolved to the characters they draw. */
type Drawn =
  | { kind: 'set'; chars: string[] }
  | { kind: 'seq'; items: Drawn[] }
  | { kind: 'alt'; options: Drawn[] }
  | { kind: 'repeat'; node: Drawn; min: number; max: number };

const DIGITS: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
/** `\s` draws a space: the other white space characters have no place on a rendered line. */
const SPACE: Ranges = [[0x20, 0x20]];

function patternError(pattern: string, message: string): OcropsError {
  return new OcropsError('OCROPS_DATA_PATTERN', `text pattern ${pattern}: ${message}`, {
    hint:
      'use literals, classes [...] (ranges, ^, \\d \\w \\s), ., groups (...) (?:...), | and the quantifiers ' +
      '? * + {n} {n,} {n,m}',
  });
}

/**
 * A recursive-descent parser of the regular-expression subset that describes a text format. It reads the pattern as
 * a whole-text match, as `source.text_pattern` does: a leading `^` and a trailing `$` are allowed and change nothing.
 */
class PatternParser {
  private readonly cps: number[];
  private pos = 0;

  constructor(private readonly pattern: string) {
    this.cps = [...pattern].map((c) => c.codePointAt(0)!);
  }

  parse(): Node {
    if (this.peek() === '^') this.pos++;
    const node = this.alternatives();
    if (this.peek() === '$' && this.pos === this.cps.length - 1) this.pos++;
    if (this.pos < this.cps.length) throw this.fail(`unexpected '${this.peek()}'`);
    return node;
  }

  private peek(offset = 0): string | undefined {
    const cp = this.cps[this.pos + offset];
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private fail(message: string): OcropsError {
    return patternError(this.pattern, `${message} at character ${this.pos + 1}`);
  }

  private alternatives(): Node {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      if (c === '$' && this.pos === this.cps.length - 1) break;
      items.push(this.quantified(this.atom()));
    }
    return items.length === 1 ? items[0] : { kind: 'seq', items };
  }

  private atom(): Node {
    const start = this.pos;
    const c = this.peek()!;
    this.pos++;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass(start);
    if (c === '.') return { kind: 'set', ranges: [], negated: true, source: '.' };
    if (c === '\\') {
      const e = this.peek();
      const shorthand = this.classEscape();
      if (shorthand)
        return {
          kind: 'set',
          ranges: shorthand,
          negated: e === 'D' || e === 'W' || e === 'S',
          source: this.slice(start),
        };
      const cp = this.charEscape();
      return { kind: 'set', ranges: [[cp, cp]], negated: false, source: this.slice(start) };
    }
    if ('?*+{'.includes(c)) throw this.fail(`quantifier '${c}' with nothing to repeat`);
    if (c === '^' || c === '$') throw this.fail(`anchor '${c}' inside the pattern (the whole text is matched anyway)`);
    const cp = this.cps[start];
    return { kind: 'set', ranges: [[cp, cp]], negated: false, source: c };
  }

  private slice(start: number): string {
    return String.fromCodePoint(...this.cps.slice(start, this.pos));
  }

  private group(): Node {
    if (this.peek() === '?') {
      if (this.peek(1) === ':') this.pos += 2;
      else if (this.peek(1) === '<' && this.peek(2) !== '=' && this.peek(2) !== '!') {
        while (this.peek() !== undefined && this.peek() !== '>') this.pos++;
        this.pos++;
      } else {
        this.pos--; // name the group's '('
        throw this.fail('lookarounds are not supported');
      }
    }
    const node = this.alternatives();
    if (this.peek() !== ')') throw this.fail("missing ')'");
    this.pos++;
    return node;
  }

  /** `\d`, `\w`, `\s` and their negations as ranges (negated by the caller); undefined for other escapes. */
  private classEscape(): Ranges | undefined {
    const c = this.peek();
    const ranges =
      c === 'd' || c === 'D' ? DIGITS : c === 'w' || c === 'W' ? WORD : c === 's' || c === 'S' ? SPACE : undefined;
    if (ranges) this.pos++;
    return ranges;
  }

  /** The code point of a character escape (`\u4e00`, `\u{1F600}`, `\x41`, `\t`, `\.`), after the backslash. */
  private charEscape(): number {
    const c = this.peek();
    if (c === undefined) throw this.fail('a pattern cannot end with a backslash');
    this.pos++;
    const hex = (n: number): number => {
      const s = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + n));
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(s)) throw this.fail(`malformed escape \\${c}${s}`);
      this.pos += n;
      return parseInt(s, 16);
    };
    if (c === 'u' && this.peek() === '{') {
      const end = this.cps.indexOf(0x7d, this.pos);
      if (end < 0) throw this.fail("missing '}' of \\u{...}");
      const s = String.fromCodePoint(...this.cps.slice(this.pos + 1, end));
      this.pos = end + 1;
      return parseInt(s, 16);
    }
    if (c === 'u') return hex(4);
    if (c === 'x') return hex(2);
    const controls: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13 };
    if (c in controls) return controls[c];
    if (/[\p{L}\p{N}]/u.test(c)) throw this.fail(`escape \\${c} is not supported`);
    return this.cps[this.pos - 1];
  }

  /** A bracket class after its `[`: members, ranges `a-z`, class escapes, a leading `^`. */
  private charClass(start: number): Node {
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    const ranges: Ranges = [];
    while (this.peek() !== ']') {
      if (this.peek() === undefined) throw this.fail("missing ']'");
      const lo = this.classMember();
      if (Array.isArray(lo)) {
        ranges.push(...lo);
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.classMember();
        if (Array.isArray(hi) || hi < lo) throw this.fail('malformed range in a character class');
        ranges.push([lo, hi]);
      } else ranges.push([lo, lo]);
    }
    this.pos++;
    return { kind: 'set', ranges, negated, source: this.slice(start) };
  }

  /** One class member: a code point, or the ranges of a class escape (`\d` inside `[...]`). */
  private classMember(): number | Ranges {
    const c = this.peek()!;
    this.pos++;
    if (c !== '\\') return this.cps[this.pos - 1];
    const e = this.peek();
    if (e === 'D' || e === 'W' || e === 'S')
      throw this.fail(`negated escape \\${e} inside a character class is not supported`);
    return this.classEscape() ?? this.charEscape();
  }

  /** The quantifier after an atom, if any. */
  private quantified(node: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, OPEN_REPEATS];
    else if (c === '+') [min, max] = [1, 1 + OPEN_REPEATS];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 24)));
      if (!m) throw this.fail("malformed quantifier '{'");
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? min + OPEN_REPEATS : Number(m[3]);
      if (max < min) throw this.fail(`quantifier {${min},${max}} has its numbers out of order`);
      this.pos += m[0].length - 1;
    } else return node;
    this.pos++;
    if (this.peek() === '?') this.pos++; // lazy: the same texts
    return { kind: 'repeat', node, min, max };
  }
}

function inRanges(cp: number, ranges: Ranges): boolean {
  return ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/**
 * The characters a set draws: its members the alphabet holds (none: undefined), or without an alphabet all of them.
 */
function setChars(
  node: Extract<Node, { kind: 'set' }>,
  pattern: string,
  alphabet?: readonly string[],
): string[] | undefined {
  if (alphabet) {
    const chars = alphabet.filter((c) => inRanges(c.codePointAt(0)!, node.ranges) !== node.negated);
    return chars.length > 0 ? chars : undefined;
  }
  const size = node.ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
  if (node.negated || size > MAX_CLASS_WITHOUT_CHARSET) {
    throw patternError(pattern, `${node.source} can only be drawn from a given charset (charset: derive has none yet)`);
  }
  return node.ranges.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, k) => String.fromCodePoint(lo + k)));
}

/**
 * Resolves the sets to the characters they draw. A part the alphabet cannot write is left out where the pattern
 * allows it (an optional part draws no repeat, an alternative is not chosen); undefined when it cannot be left out.
 * `unwritable` collects the sets that could not be written, for the error.
 */
function resolveNode(
  node: Node,
  pattern: string,
  unwritable: string[],
  alphabet?: readonly string[],
): Drawn | undefined {
  const sub = (n: Node) => resolveNode(n, pattern, unwritable, alphabet);
  switch (node.kind) {
    case 'set': {
      const chars = setChars(node, pattern, alphabet);
      if (!chars) unwritable.push(node.source);
      return chars && { kind: 'set', chars };
    }
    case 'seq': {
      const items = node.items.map(sub);
      return items.every((n) => n !== undefined) ? { kind: 'seq', items: items as Drawn[] } : undefined;
    }
    case 'alt': {
      const options = node.options.map(sub).filter((n) => n !== undefined);
      return options.length > 0 ? { kind: 'alt', options } : undefined;
    }
    case 'repeat': {
      const inner = sub(node.node);
      if (inner) return { ...node, node: inner };
      return node.min === 0 ? { kind: 'seq', items: [] } : undefined;
    }
  }
}

function draw(node: Drawn, rng: Rng): string {
  switch (node.kind) {
    case 'set':
      return rng.pick(node.chars);
    case 'seq':
      return node.items.map((n) => draw(n, rng)).join('');
    case 'alt':
      return draw(rng.pick(node.options), rng);
    case 'repeat': {
      let s = '';
      for (let k = rng.int(node.min, node.max); k > 0; k--) s += draw(node.node, rng);
      return s;
    }
  }
}

/**
 * Checks that `pattern` is in the subset {@link PatternText} draws from.
 * @throws OcropsError OCROPS_DATA_PATTERN naming the construct and its position
 */
export function checkTextPattern(pattern: string): void {
  new PatternParser(pattern).parse();
}

/**
 * Draws texts that match a regular expression as a whole: literals, classes `[...]` (ranges, `^`), `.`, `\d \w \s`
 * (`\s` draws a space), groups, `|`, and the quantifiers `? * + {n} {n,} {n,m}` (an open one draws up to
 * {@link OPEN_REPEATS} repeats past its minimum). Each class, `.` and alternation is drawn uniformly.
 */
export class PatternText {
  private readonly root: Drawn;

  /**
   * @param alphabet the characters a text may use (a set's charset): each class draws only those it holds
   * @throws OcropsError OCROPS_DATA_PATTERN for an unsupported construct, or a pattern the alphabet cannot write
   *   (a part it cannot write is left out where the pattern allows: `-?`, one of `a|b`)
   */
  constructor(pattern: string, alphabet?: Iterable<string>) {
    const chars = alphabet && [...alphabet].filter((c) => [...c].length === 1).sort();
    const unwritable: string[] = [];
    const root = resolveNode(new PatternParser(pattern).parse(), pattern, unwritable, chars);
    if (!root) throw patternError(pattern, `${[...new Set(unwritable)].join(', ')}: no character of the set's charset`);
    this.root = root;
  }

  draw(rng: Rng): string {
    return draw(this.root, rng);
  }
}
