import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomAddress } from './addresses.js';
import { Charset } from './charset.js';
import { defaultSyntheticOptions, parseDataConfig } from './config.js';
import { Rng } from './rng.js';
import { DEFAULT_FONT_FILES, loadFonts, SyntheticLines } from './synth.js';

test('address lines: Vietnamese, in the default charset, varied', () => {
  const cs = Charset.vietnamese();
  const rng = new Rng(1);
  const lines = Array.from({ length: 2000 }, () => randomAddress(rng));
  for (const l of lines) assert.deepEqual(cs.missing(l), [], l);
  assert.ok(new Set(lines).size > 1900, 'mostly distinct');
  const all = lines.join('\n');
  for (const word of ['Phường', 'Quận', 'Huyện', 'Xã', 'Hà Nội', 'TP Hồ Chí Minh']) assert.ok(all.includes(word), word);
  assert.ok(lines.every((l) => l === l.normalize('NFC') && l.trim() === l && !l.includes('  ')));
});

test('synthetic lines: deterministic for a seed, different for another, sized to the height', () => {
  const opts = { ...defaultSyntheticOptions(), seed: 9 };
  const a = new SyntheticLines(opts, 32);
  const b = new SyntheticLines(opts, 32);
  const c = new SyntheticLines({ ...opts, seed: 10 }, 32);
  for (const i of [0, 1, 7]) {
    const la = a.line(i);
    const lb = b.line(i);
    assert.equal(la.text, lb.text);
    assert.equal(la.width, lb.width);
    assert.deepEqual(la.data, lb.data);
    assert.equal(la.data.length, la.width * 32);
    assert.equal(la.text, a.text(i));
  }
  assert.notEqual(a.line(0).text + a.line(1).text, c.line(0).text + c.line(1).text);
  // the line has ink: some dark pixels, mostly light paper
  const { data } = a.line(3);
  let dark = 0;
  for (const v of data) if (v < 100) dark++;
  assert.ok(dark > data.length * 0.02 && dark < data.length * 0.5, `dark share ${dark / data.length}`);
  const rgb = new SyntheticLines(opts, 64, 3, 1000);
  const l = rgb.line(0);
  assert.equal(l.data.length, l.width * 64 * 3);
  assert.ok(l.width <= 1000);
});

test('synthetic words option: runs of consecutive address words, shorter lines, config validated', () => {
  const base = { ...defaultSyntheticOptions(), seed: 4 };
  const full = new SyntheticLines(base, 32);
  const short = new SyntheticLines({ ...base, words: { p: 1, range: [2, 3] } }, 32);
  const mixed = new SyntheticLines({ ...base, words: { p: 0.5, range: [2, 3] } }, 32);
  const n = 300;
  const fullTexts = Array.from({ length: n }, (_, i) => full.text(i));
  const shortTexts = Array.from({ length: n }, (_, i) => short.text(i));
  for (const [i, t] of shortTexts.entries()) {
    const words = t.split(' ');
    assert.ok(words.length >= 2 && words.length <= 3, `line ${i}: "${t}" has 2-3 words`);
    assert.ok(fullTexts[i].includes(t), `line ${i}: "${t}" is a run of "${fullTexts[i]}"`);
    assert.ok(!t.endsWith(','), t);
  }
  // text(i) and line(i) agree; the whole address is kept with probability 1 - p
  assert.equal(short.line(5).text, shortTexts[5]);
  const kept = Array.from({ length: n }, (_, i) => mixed.text(i)).filter((t, i) => t === fullTexts[i]).length;
  assert.ok(kept > n * 0.35 && kept < n * 0.65, `kept ${kept}/${n} whole addresses`);
  const mean = (ts: string[]) => ts.reduce((s, t) => s + t.length, 0) / ts.length;
  assert.ok(mean(shortTexts) < mean(fullTexts) / 2.5, `${mean(shortTexts)} vs ${mean(fullTexts)} characters`);
  const bad = (words: unknown) => () =>
    parseDataConfig({ name: 'x', source: { format: 'synthetic' }, image: { height: 32 }, synthetic: { words } }, 'x.yaml');
  assert.throws(bad({ p: 2 }), /x\.yaml.*synthetic\.words\.p/);
  assert.throws(bad({ p: 0.5, range: [1.5, 3] }), /synthetic\.words\.range: .*got \[1\.5,3\]; allowed: .*pair of integers/);
  assert.throws(bad({ p: 0.5, range: [0, 3] }), /synthetic\.words\.range.*>= 1/);
});

test('default fonts: every file of the fixed set is there and used, and a missing font file is an error', () => {
  const aliases = loadFonts();
  assert.equal(aliases.length, DEFAULT_FONT_FILES.length, 'the synthetic data uses the whole default font set');
  assert.throws(() => loadFonts(['/nonexistent/NoSuchFont.ttf']), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'OCROPS_DATA_FONTS');
    assert.match(e.message, /NoSuchFont\.ttf/);
    return true;
  });
});
