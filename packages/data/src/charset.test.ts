import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Charset, VIETNAMESE_CHARS } from './charset.js';
import { OcropsError } from '@ocrops/common';

test('vietnamese charset: the characters of the reference CTCModel, blank 0, 208 classes', () => {
  const cs = Charset.vietnamese();
  assert.equal(cs.chars.length, 207); // the reference CTCModel: 210 classes = 207 characters + PAD, SOS, EOS
  assert.equal(cs.numClasses, 208);
  assert.equal(cs.chars.join(''), VIETNAMESE_CHARS);
  assert.deepEqual(cs.encode('a'), [1]);
  assert.equal(cs.encode(':')[0], 207);
  for (const c of "ĐđƯưỹỵ0 #+'") assert.ok(cs.has(c), c);
  assert.ok(!cs.has('"'));
});

test('encode/decode round trip; decode drops blanks; NFC normalisation of decomposed input', () => {
  const cs = Charset.vietnamese();
  const text = 'Số 289 Đinh Bộ Lĩnh, Phường 26, Quận Bình Thạnh, TP Hồ Chí Minh';
  const ids = cs.encode(text);
  assert.equal(ids.length, [...text].length);
  assert.equal(cs.decode(ids), text);
  assert.equal(cs.decode([0, ...ids.slice(0, 3), 0, 0]), text.slice(0, 3));
  const decomposed = text.normalize('NFD');
  assert.notEqual(decomposed, text);
  assert.deepEqual(cs.encode(decomposed), ids);
  assert.deepEqual(cs.missing(decomposed), []);
});

test('unknown characters: missing() lists them, encode() throws a coded error', () => {
  const cs = Charset.vietnamese();
  assert.deepEqual(cs.missing('ab€c€ж'), ['€', 'ж']);
  assert.throws(
    () => cs.encode('x€'),
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_DATA_UNKNOWN_CHAR' && /U\+20AC/.test(e.message),
  );
});

test('fromTexts: sorted by code point, deterministic; JSON round trip', () => {
  const a = Charset.fromTexts(['ba', 'cab', 'Ế']);
  const b = Charset.fromTexts(['Ế', 'cab', 'ba']);
  assert.deepEqual(a.chars, ['a', 'b', 'c', 'Ế']);
  assert.deepEqual(a.chars, b.chars);
  const j = JSON.parse(JSON.stringify(a.toJSON()));
  assert.deepEqual(Charset.fromJSON(j).chars, a.chars);
  assert.equal(j.blank, 0);
});

test('explicit charsets reject duplicates and multi-character entries', () => {
  assert.throws(() => Charset.fromString('abca'), /twice/);
  assert.throws(() => new Charset(['ab']), /single character/);
  assert.throws(() => Charset.fromString(''), /empty/);
  assert.equal(Charset.fromString('2345678bcdefgmnpwxy').numClasses, 20);
});
