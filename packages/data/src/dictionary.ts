// Single-word texts for synthetic lines from a word list (scene-text word pre-training): dictionary words in UPPER,
// Title or lower case, and now and then a number such as 143KM, drawn from a seeded generator.
import { existsSync, readFileSync } from 'node:fs';
import { OcropsError } from '@ocrops/common';
import type { SyntheticOptions } from './config.js';
import type { Rng } from './rng.js';

/** Longest word kept from a word list (characters). */
const MAX_WORD_LENGTH = 24;
/** Attempts at drawing a text that the alphabet can write before giving up on a line. */
const MAX_DRAWS = 20;

const cache = new Map<string, string[]>();

/**
 * The words of a word list file (one per line): letters and digits only (possessives such as "Aaron's" are left
 * out), at most 24 characters, without repeats, in file order. Read once per path.
 */
export function loadDictionary(path: string): string[] {
  const hit = cache.get(path);
  if (hit) return hit;
  if (!existsSync(path)) {
    throw new OcropsError('OCROPS_DATA_DICTIONARY', `synthetic.dictionary: word list ${path} not found`, {
      hint: 'run scripts/setup (it installs the Debian word list wamerican), or: apt-get install wamerican; or set synthetic.dictionary to a file of one word per line',
    });
  }
  const words = [
    ...new Set(
      readFileSync(path, 'utf8')
        .split(/\r?\n/)
        .map((w) => w.trim().normalize('NFC'))
        .filter((w) => w.length > 0 && [...w].length <= MAX_WORD_LENGTH && /^[\p{L}\p{N}]+$/u.test(w)),
    ),
  ];
  if (words.length === 0) {
    throw new OcropsError(
      'OCROPS_DATA_DICTIONARY',
      `synthetic.dictionary: ${path} holds no usable word (letters and digits only, one per line)`,
      {
        hint: 'point synthetic.dictionary at a word list with one word per line',
      },
    );
  }
  cache.set(path, words);
  return words;
}

/** One word in the case drawn from the weights of `synthetic.case`. */
function casedWord(rng: Rng, words: readonly string[], weights: SyntheticOptions['case']): string {
  const word = rng.pick(words as string[]);
  const r = rng.uniform(0, weights.upper + weights.title + weights.lower);
  if (r < weights.upper) return word.toUpperCase();
  if (r < weights.upper + weights.title) return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
  return word.toLowerCase();
}

/** A number of 1-4 digits, followed by 1-2 capitals a third of the time (143KM, 24H). */
function numberToken(rng: Rng): string {
  let s = '';
  for (let k = rng.int(1, 4); k > 0; k--) s += String(rng.int(0, 9));
  if (rng.chance(1 / 3)) for (let k = rng.int(1, 2); k > 0; k--) s += String.fromCharCode(65 + rng.int(0, 25));
  return s;
}

/**
 * The text of one dictionary line: a number with probability `digitsP`, else a cased word. With `alphabet`, draws
 * again (from the same generator, so still a function of the seed) until every character is in it.
 * @throws OcropsError OCROPS_DATA_DICTIONARY when 20 draws in a row cannot be written with the alphabet
 */
export function dictionaryText(
  rng: Rng,
  words: readonly string[],
  opts: Pick<SyntheticOptions, 'case' | 'digitsP' | 'dictionary'>,
  alphabet?: ReadonlySet<string>,
): string {
  for (let k = 0; k < MAX_DRAWS; k++) {
    const text = rng.chance(opts.digitsP) ? numberToken(rng) : casedWord(rng, words, opts.case);
    if (!alphabet || [...text].every((c) => alphabet.has(c))) return text;
  }
  throw new OcropsError(
    'OCROPS_DATA_DICTIONARY',
    `synthetic.dictionary: ${MAX_DRAWS} words in a row of ${opts.dictionary} cannot be written with the set's charset`,
    {
      hint: "use a word list in the charset's script, or a charset that covers the list (charset: derive or the characters themselves)",
    },
  );
}
