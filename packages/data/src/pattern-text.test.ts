import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OcropsError } from '@ocrops/common';
import { checkTextPattern, OPEN_REPEATS, PatternText } from './pattern-text.js';
import { Rng } from './rng.js';

/** `n` texts drawn from `pattern`, each checked against JavaScript's own whole-text match of it. */
function drawChecked(pattern: string, n: number, alphabet?: Iterable<string>): string[] {
  const gen = new PatternText(pattern, alphabet);
  const re = new RegExp(`^(?:${pattern})$`, 'u');
  const rng = new Rng(7);
  return Array.from({ length: n }, () => {
    const text = gen.draw(rng);
    assert.match(text, re, `${JSON.stringify(text)} drawn from ${pattern}`);
    return text;
  });
}

test('every drawn text matches the pattern as RegExp reads it', () => {
  const patterns = [
    '[\\u4e00-\\u9fff][A-Z][0-9A-Z]{5}',
    '^\\d{4}-\\d{2}-\\d{2}$',
    '(?:AB|C\\.D)+x?[^0-9]{2,3}',
    '[a-c-]{1,}\\s\\w*',
    '(?<year>19|20)\\d\\d[-/.][0-1]\\d',
    'a|bc|(d(e|f)g)*',
    '\\x41\\u{1F600}?\\t?[\\d_]+?',
    '.{3}',
  ];
  const alphabet = [...'0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefgxy_-./ \t京沪皖川'];
  for (const p of patterns) drawChecked(p, 300, alphabet);
  // without a charset: classes are drawn from their own members (negated ones and `.` need one)
  for (const p of [0, 1, 3, 4, 5].map((i) => patterns[i])) drawChecked(p, 300);
});

test('each class is drawn uniformly from the members the charset can write', () => {
  const plate = '[\\u4e00-\\u9fff][A-Z][0-9A-Z]{5}';
  const charset = [...'0123456789ABCDEFGHJKLMNPQRSTUVWXYZ京川沪浙湘皖粤苏豫闽鲁'];
  const texts = drawChecked(plate, 11_000, charset);
  const provinces = new Map<string, number>();
  for (const t of texts) provinces.set(t[0], (provinces.get(t[0]) ?? 0) + 1);
  assert.deepEqual(
    [...provinces.keys()].sort(),
    [...'京川沪浙湘皖粤苏豫闽鲁'].sort(),
    'all 11 provinces, nothing else',
  );
  for (const [p, n] of provinces)
    assert.ok(n > 850 && n < 1150, `province ${p} drawn ${n} times of 11,000 (1,000 expected)`);
  assert.ok(
    texts.every((t) => !/[IO]/.test(t)),
    'I and O are not in the charset',
  );
  assert.ok(texts.every((t) => [...t].length === 7));
});

test('quantifiers: exact counts, ranges, and open ones up to OPEN_REPEATS past the minimum', () => {
  const lengths = (p: string) => new Set(drawChecked(p, 500, ['a']).map((t) => t.length));
  assert.deepEqual([...lengths('a{3}')], [3]);
  assert.deepEqual([...lengths('a{2,4}')].sort(), [2, 3, 4]);
  assert.deepEqual([...lengths('a?')].sort(), [0, 1]);
  assert.equal(Math.max(...lengths('a*')), OPEN_REPEATS);
  assert.equal(Math.min(...lengths('a+')), 1);
  assert.equal(Math.max(...lengths('a{2,}')), 2 + OPEN_REPEATS);
});

test('the same seed draws the same texts', () => {
  const gen = new PatternText('[A-Z]{3}\\d{2}');
  const a = Array.from({ length: 20 }, (_, i) => gen.draw(new Rng(i)));
  const b = Array.from({ length: 20 }, (_, i) => gen.draw(new Rng(i)));
  assert.deepEqual(a, b);
  assert.ok(new Set(a).size > 15);
});

test('unsupported constructs and classes the charset cannot write are errors naming the pattern', () => {
  const fails = (p: string, what: RegExp, alphabet?: string[]) =>
    assert.throws(
      () => new PatternText(p, alphabet),
      (e: Error) =>
        e instanceof OcropsError && e.code === 'OCROPS_DATA_PATTERN' && e.message.includes(p) && what.test(e.message),
    );
  fails('a(?=b)', /lookarounds/);
  fails('(a)\\1', /escape \\1/);
  fails('\\p{L}+', /escape \\p/);
  fails('a\\bc', /escape \\b/);
  fails('ab^c', /anchor/);
  fails('*a', /nothing to repeat/);
  fails('a{2', /malformed quantifier/);
  fails('a{3,1}', /out of order/);
  fails('[z-a]', /malformed range/);
  fails('[ab', /missing '\]'/);
  fails('(ab', /missing '\)'/);
  fails('ab)', /unexpected '\)'/);
  fails('[\\u4e00-\\u9fff]\\d', /\[\\u4e00-\\u9fff\]: no character of the set's charset/, [...'0123456789']);
  fails('(x|y)\\d', /x, y: no character/, [...'0123456789']);
  // a part the charset cannot write is left out where the pattern allows it
  assert.deepEqual(new Set(drawChecked('[A-Z]{2}-?(\\d|#)+', 200, [...'AB0123456789'])).size > 50, true);
  assert.ok(drawChecked('[A-Z]{2}-?(\\d|#)+', 200, [...'AB0123456789']).every((t) => /^[AB]{2}\d+$/.test(t)));
  fails('[^a]', /only be drawn from a given charset/);
  assert.doesNotThrow(() => checkTextPattern('[\\u4e00-\\u9fff][A-Z][0-9A-Z]{5}'));
  assert.throws(() => checkTextPattern('a(?!b)'), /lookarounds/);
});
