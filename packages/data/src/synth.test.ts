import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { randomAddress } from './addresses.js';
import { Charset } from './charset.js';
import { defaultSyntheticOptions, parseDataConfig } from './config.js';
import { loadDictionary } from './dictionary.js';
import { covers, fontCoverage } from './font-coverage.js';
import { Rng } from './rng.js';
import { DEFAULT_FONT_FILES, loadFonts, SyntheticLines } from './synth.js';
import { tempDir } from './testing/fixtures.js';

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
    parseDataConfig(
      { name: 'x', source: { format: 'synthetic' }, image: { height: 32 }, synthetic: { words } },
      'x.yaml',
    );
  assert.throws(bad({ p: 2 }), /x\.yaml.*synthetic\.words\.p/);
  assert.throws(
    bad({ p: 0.5, range: [1.5, 3] }),
    /synthetic\.words\.range: .*got \[1\.5,3\]; allowed: .*pair of integers/,
  );
  assert.throws(bad({ p: 0.5, range: [0, 3] }), /synthetic\.words\.range.*>= 1/);
});

test('default fonts: every file of the fixed set is there and used, and a missing font file is an error', () => {
  const aliases = loadFonts();
  assert.equal(aliases.length, DEFAULT_FONT_FILES.length, 'the synthetic data uses the whole default font set');
  assert.throws(
    () => loadFonts(['/nonexistent/NoSuchFont.ttf']),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'OCROPS_DATA_FONTS');
      assert.match(e.message, /NoSuchFont\.ttf/);
      return true;
    },
  );
});

test('dictionary lines: one word of the list per line, cased by the weights, numbers, inside an alphabet', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const list = join(dir, 'words.txt');
  writeFileSync(list, ['apple', "Aaron's", 'Zebra', '', 'café', 'x'.repeat(30), 'apple', 'river', 'stone'].join('\n'));
  assert.deepEqual(
    loadDictionary(list),
    ['apple', 'Zebra', 'café', 'river', 'stone'],
    'letters only, <= 24 characters, no repeats',
  );
  const opts = { ...defaultSyntheticOptions(), seed: 3, text: 'dictionary' as const, dictionary: list };
  const ascii = new Set([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789']);
  const gen = new SyntheticLines(opts, 32, 1, undefined, undefined, ascii);
  const texts = Array.from({ length: 400 }, (_, i) => gen.text(i));
  const words = texts.filter((s) => !/^[0-9]/.test(s));
  for (const s of words)
    assert.ok(
      ['apple', 'zebra', 'river', 'stone'].includes(s.toLowerCase()),
      `${s}: a listed word ('café' is outside the alphabet)`,
    );
  for (const s of texts.filter((x) => /^[0-9]/.test(x))) assert.match(s, /^[0-9]{1,4}[A-Z]{0,2}$/);
  const share = (re: RegExp) => words.filter((s) => re.test(s)).length / words.length;
  assert.ok(Math.abs(share(/^[A-Z]+$/) - 0.45) < 0.1, `UPPER ${share(/^[A-Z]+$/)}`);
  assert.ok(Math.abs(share(/^[A-Z][a-z]+$/) - 0.3) < 0.1, `Title ${share(/^[A-Z][a-z]+$/)}`);
  assert.ok(Math.abs(share(/^[a-z]+$/) - 0.25) < 0.1, `lower ${share(/^[a-z]+$/)}`);
  const numbers = texts.length - words.length;
  assert.ok(numbers > 20 && numbers < 70, `${numbers} of 400 are numbers (digits_p 0.1)`);
  assert.equal(gen.line(5).text, texts[5]);
  assert.deepEqual(
    new SyntheticLines(opts, 32, 1, undefined, undefined, ascii).line(5).data,
    gen.line(5).data,
    'deterministic',
  );
  // an alphabet that cannot write the list is an error naming the list, and a missing list names the package
  const digitsOnly = new SyntheticLines({ ...opts, digitsP: 0 }, 32, 1, undefined, undefined, new Set('0123456789'));
  assert.throws(
    () => digitsOnly.text(0),
    (e: Error) => e instanceof OcropsError && e.code === 'OCROPS_DATA_DICTIONARY' && e.message.includes(list),
  );
  assert.throws(
    () => new SyntheticLines({ ...opts, dictionary: join(dir, 'none.txt') }, 32),
    (e: OcropsError) => /none\.txt not found/.test(e.message) && /wamerican/.test(e.hint ?? ''),
  );
});

test('invert_p: light text on dark paper for that share of the lines; address lines keep their pixels when 0', () => {
  const opts = { ...defaultSyntheticOptions(), seed: 12 };
  const plain = new SyntheticLines(opts, 32);
  const inverted = new SyntheticLines({ ...opts, invertP: 1 }, 32);
  const mean = (d: Uint8Array) => d.reduce((s, v) => s + v, 0) / d.length;
  for (const i of [0, 1, 2]) {
    assert.ok(mean(plain.line(i).data) > 150, 'dark ink on light paper');
    assert.ok(mean(inverted.line(i).data) < 105, 'light ink on dark paper');
    assert.equal(inverted.text(i), plain.text(i));
  }
  // the default (0) draws nothing more: the same seed renders the same address lines as before the option existed
  assert.deepEqual(new SyntheticLines({ ...opts, invertP: 0 }, 32).line(4).data, plain.line(4).data);
  const bad =
    (synthetic: unknown, source: object = { format: 'synthetic' }) =>
    () =>
      parseDataConfig({ name: 'x', source, image: { height: 32 }, synthetic }, 'x.yaml');
  assert.throws(bad({ invert_p: 1.5 }), /synthetic\.invert_p/);
  assert.throws(bad({ text: 'poems' }), /synthetic\.text/);
  assert.throws(
    bad({ case: { upper: 0, title: 0, lower: 0 } }),
    /synthetic\.case: upper \+ title \+ lower must be > 0/,
  );
  assert.throws(bad({ mix_train: 100 }), /synthetic\.mix_train: adds generated lines to a read source/);
  assert.doesNotThrow(bad({ mix_train: 100, text: 'dictionary' }, { format: 'folder', path: 'crops' }));
});

test('scene_p: scene-text lines (any two grays >= 50 apart, condensed or extended, tight); 0 draws nothing more', () => {
  const opts = { ...defaultSyntheticOptions(), seed: 21, blur: { p: 0, radius: [0.3, 0.8] as [number, number] } };
  const plain = new SyntheticLines({ ...opts, noise: [0, 0] }, 32);
  const scene = new SyntheticLines({ ...opts, noise: [0, 0], sceneP: 1 }, 32);
  const papers: number[] = [];
  const widthRatios: number[] = [];
  for (let i = 0; i < 40; i++) {
    const p = plain.line(i);
    const q = scene.line(i);
    assert.equal(q.text, p.text, 'the same text');
    const sorted = [...q.data].sort((a, b) => a - b);
    const [lo, hi] = [sorted[Math.floor(sorted.length * 0.02)], sorted[Math.floor(sorted.length * 0.98)]];
    assert.ok(hi - lo >= 40, `line ${i}: ink and paper ${lo} / ${hi} are apart`);
    papers.push(sorted[Math.floor(sorted.length / 2)]);
    widthRatios.push(q.width / p.width);
  }
  // print-like lines have paper 205-255 or (inverted) 0-50; scene lines also mid grays
  assert.ok(papers.filter((v) => v > 70 && v < 185).length >= 8, `mid-gray papers: ${papers.join(' ')}`);
  assert.ok(Math.min(...widthRatios) < 0.85 && Math.max(...widthRatios) > 1.1, `widths: ${widthRatios.join(' ')}`);
  assert.deepEqual(
    new SyntheticLines({ ...opts, sceneP: 0 }, 32).line(3).data,
    new SyntheticLines(opts, 32).line(3).data,
  );
  assert.throws(
    () =>
      parseDataConfig(
        { name: 'x', source: { format: 'synthetic' }, image: { height: 32 }, synthetic: { scene_p: 2 } },
        'x.yaml',
      ),
    /synthetic\.scene_p/,
  );
});

test('text: pattern draws texts matching the pattern, each class from the charset; the config checks it', () => {
  const plate = '[\\u4e00-\\u9fff][A-Z][0-9A-Z]{5}';
  const cfg = parseDataConfig(
    {
      name: 'x',
      source: { format: 'folder', path: 'crops', text_pattern: plate },
      image: { height: 32 },
      synthetic: { text: 'pattern', mix_train: 10 },
    },
    'x.yaml',
  );
  assert.equal(cfg.synthetic.pattern, plate, "the source's text_pattern is the default pattern");
  const latin = new Set([...'0123456789ABCDEFGHJKLMNPQRSTUVWXYZ']);
  const gen = new SyntheticLines(
    { ...defaultSyntheticOptions(), text: 'pattern', pattern: '[A-Z]{2}-?\\d{3,4}', seed: 3 },
    32,
    1,
    undefined,
    undefined,
    latin,
  );
  const texts = Array.from({ length: 200 }, (_, i) => gen.text(i));
  for (const t of texts) assert.match(t, /^[A-HJ-NP-Z]{2}\d{3,4}$/, `${t}: '-' and I, O are outside the alphabet`);
  const line = gen.line(7);
  assert.equal(line.text, texts[7]);
  assert.ok(
    line.data.some((v) => v < 100),
    'drawn with ink',
  );
  // the config names the field of a missing or unsupported pattern
  const bad =
    (synthetic: unknown, source: object = { format: 'synthetic' }) =>
    () =>
      parseDataConfig({ name: 'x', source, image: { height: 32 }, synthetic }, 'x.yaml');
  assert.throws(bad({ text: 'pattern' }), /synthetic\.pattern: is required with text: pattern/);
  assert.throws(
    bad({ text: 'pattern', pattern: '[A-Z](?=1)' }),
    /synthetic\.pattern: .*lookarounds are not supported at character 6/,
  );
  assert.throws(
    bad({ text: 'pattern', mix_train: 5 }, { format: 'folder', path: 'crops', text_pattern: 'a\\1' }),
    /source\.text_pattern: .*escape \\1/,
  );
  // the alphabet cannot write the pattern: the error names the config field and the class
  const digits = new Set('0123456789');
  assert.throws(
    () =>
      new SyntheticLines(
        { ...defaultSyntheticOptions(), text: 'pattern', pattern: plate },
        32,
        1,
        undefined,
        undefined,
        digits,
      ),
    (e: OcropsError) =>
      e.code === 'OCROPS_DATA_PATTERN' && /^synthetic\.pattern: .*\[\\u4e00-\\u9fff\]/.test(e.message),
  );
});

test('fonts: a line is drawn only with fonts that hold all its characters; none is an error naming them', () => {
  const sans = DEFAULT_FONT_FILES.find((f) => f.endsWith('DejaVuSans.ttf'))!;
  const cov = fontCoverage(sans);
  for (const c of 'Aaăằ€ 0') assert.ok(covers(cov, c.codePointAt(0)!), `DejaVu Sans has ${c}`);
  assert.ok(!covers(cov, '皖'.codePointAt(0)!), 'DejaVu Sans has no Chinese');
  assert.equal(fontCoverage(sans), cov, 'read once');
  // every default font draws every character of the Vietnamese charset, so address lines keep their fonts and pixels
  const vn = Charset.vietnamese().chars.map((c) => c.codePointAt(0)!);
  for (const f of DEFAULT_FONT_FILES)
    assert.ok(
      vn.every((cp) => covers(fontCoverage(f), cp)),
      f,
    );
  const gen = new SyntheticLines(
    { ...defaultSyntheticOptions(), text: 'pattern', pattern: '[皖沪][A-Z]{3}', seed: 1 },
    32,
    3,
  );
  assert.throws(
    () => gen.line(0),
    (e: OcropsError) =>
      e.code === 'OCROPS_DATA_FONTS' && /no font has [皖沪]/.test(e.message) && /fonts-wqy-microhei/.test(e.hint ?? ''),
  );
  const tmp = tempDir('ocrops-font-');
  try {
    const notFont = join(tmp.dir, 'notes.ttf');
    writeFileSync(notFont, 'not a font at all, just text');
    assert.throws(
      () => fontCoverage(notFont),
      (e: OcropsError) => e.code === 'OCROPS_DATA_FONTS' && e.message.includes(notFont),
    );
  } finally {
    tmp.cleanup();
  }
});
