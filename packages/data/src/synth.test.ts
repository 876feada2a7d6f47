import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomAddress } from './addresses.js';
import { Charset } from './charset.js';
import { defaultSyntheticOptions } from './config.js';
import { Rng } from './rng.js';
import { SyntheticLines } from './synth.js';

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
