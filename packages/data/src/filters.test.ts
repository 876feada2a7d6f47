import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { parseDataConfig } from './config.js';
import { parseLabelStudioExport } from './labelstudio.js';
import { filterByTextPattern, foldLabelCase, readSource } from './readers.js';
import { tempDir } from './testing/fixtures.js';

/** A task of the reference recipe's captioning project: a caption and the `chc` quality choice (or none). */
function task(id: number, caption: string, quality?: string) {
  const result: unknown[] = [{ from_name: 'caption', to_name: 'image', type: 'textarea', value: { text: [caption] } }];
  if (quality) result.push({ from_name: 'chc', to_name: 'image', type: 'choices', value: { choices: [quality] } });
  return {
    id,
    data: { captioning: `/data/local-files/?d=images/${id}.png` },
    annotations: [{ was_cancelled: false, result }],
  };
}
const exportText = JSON.stringify([
  task(1, 'Hà Nội', 'Good'),
  task(2, 'Huế', 'Bad'),
  task(3, 'Đà Nẵng'),
  task(4, 'Sài Gòn', 'Good'),
]);

test('Label Studio quality: read into each entry; quality [Good] keeps only those tasks and reports the others', () => {
  const all = parseLabelStudioExport(exportText, 'e.json');
  assert.deepEqual(
    all.entries.map((e) => [e.taskId, e.quality]),
    [
      ['1', ['Good']],
      ['2', ['Bad']],
      ['3', undefined],
      ['4', ['Good']],
    ],
  );
  assert.equal(all.skipped.length, 0);
  const good = parseLabelStudioExport(exportText, 'e.json', { quality: ['Good'] });
  assert.deepEqual(
    good.entries.map((e) => e.text),
    ['Hà Nội', 'Sài Gòn'],
  );
  assert.deepEqual(
    good.skipped.map((s) => s.taskId),
    ['2', '3'],
  );
  assert.match(good.skipped[0].reason, /task 2 .*quality 'Bad', not one of quality \[Good\]/);
  assert.match(good.skipped[1].reason, /task 3 .*no quality choice/);
  assert.ok(good.skipped.every((s) => s.filtered));
  const both = parseLabelStudioExport(exportText, 'e.json', { quality: ['Good', 'Bad'] });
  assert.equal(both.entries.length, 3);
  const other = parseLabelStudioExport(exportText, 'e.json', { quality: ['Good'], qualityFrom: 'rating' });
  assert.equal(other.entries.length, 0, 'no task has a `rating` control');
});

test('a label-studio source with quality: [Good] reads through readSource; the rest are skipped at stage filter', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'images'));
  writeFileSync(join(dir, 'export.json'), exportText);
  const cfg = parseDataConfig(
    {
      name: 'ls',
      source: { format: 'label-studio', path: 'export.json', quality: ['Good'] },
      image: { height: 32 },
    },
    'ls.yaml',
    dir,
  );
  assert.deepEqual(cfg.source.quality, ['Good']);
  const r = await readSource(cfg.source);
  assert.deepEqual(
    r.items.map((i) => i.label),
    ['Hà Nội', 'Sài Gòn'],
  );
  assert.deepEqual(
    r.skipped.map((s) => [s.id, s.stage]),
    [
      ['2.png', 'filter'],
      ['3.png', 'filter'],
    ],
  );
});

test('textPattern keeps the labels that match it whole and reports the others (a licence-plate mask)', async (t) => {
  const items = ['皖A00E66', '皖A0E66', 'ab', '沪C8GK31', '沪C8GK31X'].map((label, i) => ({
    id: `${i}.jpg`,
    path: `/x/${i}.jpg`,
    label,
  }));
  const mask = '[\\u4e00-\\u9fff][A-Z][0-9A-Z]{5}';
  const { kept, dropped } = filterByTextPattern(items, mask);
  assert.deepEqual(
    kept.map((i) => i.label),
    ['皖A00E66', '沪C8GK31'],
  );
  assert.deepEqual(
    dropped.map((d) => d.id),
    ['1.jpg', '2.jpg', '4.jpg'],
  );
  assert.ok(dropped.every((d) => d.stage === 'filter' && /does not match textPattern/.test(d.reason)));
  assert.equal(filterByTextPattern(items).kept.length, 5, 'no pattern keeps everything');
  // through a labels-json source
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'labels.json'), JSON.stringify(Object.fromEntries(items.map((i) => [i.id, i.label]))));
  const cfg = parseDataConfig(
    { name: 'p', source: { format: 'labels-json', path: 'labels.json', text_pattern: mask }, image: { height: 32 } },
    'p.yaml',
    dir,
  );
  const r = await readSource(cfg.source);
  assert.deepEqual(
    r.items.map((i) => i.label),
    ['皖A00E66', '沪C8GK31'],
  );
  assert.equal(r.skipped.filter((s) => s.stage === 'filter').length, 3);
});

test('label_case folds the labels as they are read, before text_pattern (case-insensitive word sets)', async (t) => {
  const items = ['ROADS', 'Kumar', 'of', 'Đà'].map((label, i) => ({ id: `${i}.png`, path: `/x/${i}.png`, label }));
  assert.deepEqual(
    foldLabelCase(items, 'lower').map((i) => i.label),
    ['roads', 'kumar', 'of', 'đà'],
  );
  assert.deepEqual(
    foldLabelCase(items, 'upper').map((i) => i.label),
    ['ROADS', 'KUMAR', 'OF', 'ĐÀ'],
  );
  assert.deepEqual(
    foldLabelCase(items, 'keep').map((i) => i.label),
    ['ROADS', 'Kumar', 'of', 'Đà'],
  );
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'labels.json'), JSON.stringify(Object.fromEntries(items.map((i) => [i.id, i.label]))));
  const cfg = parseDataConfig(
    {
      name: 'w',
      source: { format: 'labels-json', path: 'labels.json', label_case: 'lower', text_pattern: '[a-z]+' },
      image: { height: 32 },
    },
    'w.yaml',
    dir,
  );
  const r = await readSource(cfg.source);
  assert.deepEqual(
    r.items.map((i) => i.label),
    ['roads', 'kumar', 'of'],
    'the pattern sees the folded labels',
  );
  assert.deepEqual(
    r.skipped.map((s) => s.id),
    ['3.png'],
  );
});

test('filter config errors name the file and field', () => {
  const bad = (source: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => parseDataConfig({ name: 'x', source, image: { height: 32 } }, 'x.yaml', '/tmp'),
      (e: unknown) => e instanceof OcropsError && /x\.yaml/.test(e.message) && re.test(e.message),
      `expected ${re}`,
    );
  bad({ format: 'labels-json', path: 'l.json', quality: ['Good'] }, /quality.*Label Studio/);
  bad({ format: 'label-studio', path: 'e.json', quality: [] }, /quality.*non-empty list/);
  bad({ format: 'labels-json', path: 'l.json', text_pattern: '[a-' }, /text_pattern.*not a valid regular expression/);
  bad({ format: 'synthetic', text_pattern: 'a+' }, /text_pattern/);
  bad({ format: 'labels-json', path: 'l.json', label_case: 'title' }, /label_case/);
  bad({ format: 'synthetic', label_case: 'lower' }, /label_case/);
});
