import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { accByChar, accByField, cer, matchingCharacters, meanAccByChar, wer, editDistance } from './metrics.js';

// Expected values computed by CPython's difflib (fixtures/gen-difflib-cases.py), incl. strings >= 200 characters
// where difflib's autojunk heuristic changes the result.
const cases = JSON.parse(readFileSync(new URL('./fixtures/difflib-cases.json', import.meta.url), 'utf8')) as {
  pred: string;
  target: string;
  acc: number;
  blocks: number;
}[];

test('accByChar equals calculate_ac of the reference recipe (Python difflib) on every fixture case', () => {
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    assert.equal(matchingCharacters(Array.from(c.pred), Array.from(c.target)), c.blocks, `${c.pred} / ${c.target}`);
    assert.ok(
      Math.abs(accByChar(c.pred, c.target) - c.acc) < 1e-12,
      `${c.pred.slice(0, 30)}: ${accByChar(c.pred, c.target)} vs ${c.acc}`,
    );
  }
});

test('autojunk applies from 200 characters of the target on', () => {
  const long = cases.filter((c) => Array.from(c.target).length >= 200);
  assert.ok(long.length >= 3);
  // with autojunk the matched count is far below the edit-based match: the heuristic is in effect
  for (const c of long) assert.ok(c.blocks < Array.from(c.target).length / 2);
});

test('special cases: both empty = 1, one side empty = 0, nothing in common = 0', () => {
  assert.equal(accByChar('', ''), 1);
  assert.equal(accByChar('', 'abc'), 0);
  assert.equal(accByChar('abc', ''), 0);
  assert.equal(accByChar('abc', 'xyz'), 0);
  assert.equal(accByChar('abc', 'abc'), 1);
});

test('composed and decomposed Vietnamese diacritics compare equal', () => {
  const composed = 'Đường Nguyễn Huệ, Quận 1';
  const decomposed = composed.normalize('NFD');
  assert.notEqual(composed, decomposed);
  assert.equal(accByChar(decomposed, composed), 1);
  assert.equal(accByField([decomposed], [composed]), 1);
  assert.equal(cer([decomposed], [composed]), 0);
  assert.equal(wer([decomposed], [composed]), 0);
  // code points, not UTF-16 units or bytes: one wrong tone mark is one character error
  assert.equal(cer(['Nguyễn'], ['Nguyên']), 1 / 6);
});

test('repeated characters', () => {
  assert.equal(accByChar('aaaa', 'aa'), 2 / 3);
  assert.equal(cer(['aaaa'], ['aa']), 1);
  assert.equal(editDistance(Array.from('aab'), Array.from('ab')), 1);
});

test('accByField, CER and WER over a batch', () => {
  assert.equal(accByField(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'y']), 0.5);
  assert.equal(accByField([], []), 0);
  assert.equal(cer(['kitten', 'abc'], ['sitting', 'abc']), 3 / 10);
  assert.equal(wer(['so 12 duong Le Loi', ''], ['so 12 đường Lê Lợi', 'a b']), (3 + 2) / 7);
  assert.equal(cer([''], ['']), 0);
  assert.equal(cer(['x'], ['']), 1);
  assert.ok(Math.abs(meanAccByChar(['abc', ''], ['abc', 'x']) - 0.5) < 1e-12);
  assert.throws(() => cer(['a'], []), /1 predictions but 0 targets/);
});
