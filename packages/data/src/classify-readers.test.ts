import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { OcropsError } from '@ocrops/common';
import { parseClassifyDataConfig } from './classify-config.js';
import { loadClassifyDataConfig } from './task-config.js';
import { compareCodePoints, parseCsv, readClassCsv, readImageFolder } from './classify-readers.js';
import { classSplitSizes, stratifiedSplit } from './classify-split.js';
import { tempDir } from './testing/fixtures.js';

/** Writes a small solid-colour JPEG. */
async function writeSolid(path: string, rgb: [number, number, number], size = 16): Promise<void> {
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg()
    .toFile(path);
}

/** An ImageFolder with the given classes and images per class. */
async function imageFolder(root: string, classes: Record<string, number>): Promise<void> {
  for (const [name, n] of Object.entries(classes)) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < n; i++) await writeSolid(join(root, name, `img_${i}.jpg`), [i * 20, 100, 200]);
  }
}

function rejects(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OcropsError, `expected OcropsError, got ${err}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('ImageFolder: class names with spaces and non-ASCII letters (NFC), sorted by code point, counts, non-images skipped with their path', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // 'É' written decomposed (E + combining acute) must come back composed
  await imageFolder(dir, { 'MONARCH BUTTERFLY': 3, ['E\u0301CUREUIL']: 2, 'Zebra long wing': 2, ÄPFEL: 1 });
  writeFileSync(join(dir, 'MONARCH BUTTERFLY', 'notes.txt'), 'not an image');
  writeFileSync(join(dir, 'README.md'), 'a file outside any class');
  // a class folder that is a symbolic link (as DVC's symlink cache type makes) counts as a class
  await imageFolder(join(dir, '..', `${basename(dir)}-linked`), { LINKED: 1 });
  t.after(() => rmSync(join(dir, '..', `${basename(dir)}-linked`), { recursive: true, force: true }));
  symlinkSync(join(dir, '..', `${basename(dir)}-linked`, 'LINKED'), join(dir, 'LINKED'));
  const r = readImageFolder(dir);
  assert.deepEqual(r.classes, ['LINKED', 'MONARCH BUTTERFLY', 'Zebra long wing', 'ÄPFEL', 'ÉCUREUIL']);
  assert.ok(r.classes.every((c) => c === c.normalize('NFC')));
  assert.deepEqual(r.counts, [1, 3, 2, 1, 2]);
  assert.equal(r.items.length, 9);
  assert.ok(r.items.some((it) => it.id === 'ÉCUREUIL/img_0.jpg' && it.label === 'ÉCUREUIL'));
  assert.deepEqual(
    r.skipped.map((s) => s.path).sort(),
    [join(dir, 'MONARCH BUTTERFLY', 'notes.txt'), join(dir, 'README.md')].sort(),
  );
  assert.match(r.skipped.find((s) => s.id.endsWith('notes.txt'))!.reason, /not an image file/);
});

test('code-point order is not locale order', () => {
  assert.deepEqual(['b', 'B', 'a', 'Ä', 'A'].sort(compareCodePoints), ['A', 'B', 'a', 'b', 'Ä']);
});

test('ImageFolder bad input: one class, an empty class folder, names equal up to case, an unreadable folder', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await imageFolder(join(dir, 'one'), { ONLY: 2 });
  rejects(
    () => readImageFolder(join(dir, 'one')),
    'OCROPS_DATA_CLASSES',
    /1 class\(es\) found \(ONLY\); a classifier needs at least 2/,
  );

  await imageFolder(join(dir, 'empty'), { A: 2, B: 2 });
  mkdirSync(join(dir, 'empty', 'C'));
  rejects(
    () => readImageFolder(join(dir, 'empty')),
    'OCROPS_DATA_CLASSES',
    new RegExp(`${join(dir, 'empty', 'C')}: class folder 'C' holds no image files`),
  );

  await imageFolder(join(dir, 'case'), { 'Red Admiral': 2, 'RED ADMIRAL': 2 });
  rejects(
    () => readImageFolder(join(dir, 'case')),
    'OCROPS_DATA_CLASSES',
    /'RED ADMIRAL' and 'Red Admiral' differ only in case/,
  );

  rejects(
    () => readImageFolder(join(dir, 'missing')),
    'OCROPS_FILE_UNREADABLE',
    new RegExp(`cannot list image folder ${join(dir, 'missing')}`),
  );
  if (process.getuid?.() !== 0) {
    await imageFolder(join(dir, 'locked'), { A: 1, B: 1 });
    chmodSync(join(dir, 'locked', 'B'), 0o000);
    t.after(() => chmodSync(join(dir, 'locked', 'B'), 0o755));
    rejects(() => readImageFolder(join(dir, 'locked')), 'OCROPS_FILE_UNREADABLE', /cannot list class folder/);
  }
});

test('CSV filename,label: quoted fields, empty labels / duplicates / missing files skipped, header checked', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'img'));
  for (const f of ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']) await writeSolid(join(dir, 'img', f), [10, 20, 30]);
  writeFileSync(
    join(dir, 'labels.csv'),
    'filename,label\r\na.jpg,"SWALLOWTAIL, TIGER"\nb.jpg,Blue Morpho\nc.jpg,\nb.jpg,Blue Morpho\nmissing.jpg,Blue Morpho\nd.jpg,Blue Morpho\n',
  );
  const r = readClassCsv(join(dir, 'labels.csv'), join(dir, 'img'));
  assert.deepEqual(r.classes, ['Blue Morpho', 'SWALLOWTAIL, TIGER']);
  assert.deepEqual(r.counts, [2, 1]);
  assert.deepEqual(
    r.items.map((it) => it.id),
    ['a.jpg', 'b.jpg', 'd.jpg'],
  );
  assert.deepEqual(
    r.skipped.map((s) => s.reason.replace(dir, '<dir>')),
    [
      '<dir>/labels.csv:4: empty label for c.jpg',
      '<dir>/labels.csv:5: b.jpg is listed twice (later one dropped)',
      `<dir>/labels.csv:6: ${join(dir, 'img', 'missing.jpg')} not found`,
    ],
  );
  writeFileSync(join(dir, 'bad.csv'), 'file,class\na.jpg,X\n');
  rejects(
    () => readClassCsv(join(dir, 'bad.csv'), dir),
    'OCROPS_DATA_FORMAT',
    /bad\.csv:1: expected a header with the columns filename,label/,
  );
  assert.deepEqual(parseCsv('x,"a ""b"", c"\n\n'), [['x', 'a "b", c']]);
});

test('classify data config: keys, defaults, relative paths from the base dir, errors name the field', () => {
  const cfg = parseClassifyDataConfig(
    {
      task: 'classify',
      name: 'b',
      source: { kind: 'csv', file: 'x/labels.csv' },
      image: { height: 64, width: 96, channels: 3 },
      augment: { color_jitter: 0.3, scale: [0.8, 1.2] },
    },
    'b.yaml',
    '/base',
  );
  assert.deepEqual(cfg.source, { kind: 'csv', file: '/base/x/labels.csv', imagesDir: '/base/x' });
  assert.deepEqual(cfg.image, { height: 64, width: 96, channels: 3 });
  assert.deepEqual(cfg.split, { val: 0.1, test: 0.1, seed: 42 });
  assert.equal(cfg.outDir, '/base/data/prepared/b');
  assert.deepEqual(cfg.augment, {
    hflip: true,
    vflip: true,
    colorJitter: 0.3,
    translate: 0.1,
    scale: [0.8, 1.2],
    fill: 'edge',
    fillValue: 0,
  });
  const bad = (v: unknown, re: RegExp) =>
    rejects(() => parseClassifyDataConfig(v, 'b.yaml', '/base'), 'OCROPS_CONFIG_INVALID', re);
  const base = { task: 'classify', name: 'b', source: { kind: 'imagefolder', dir: 'd' }, image: { height: 32 } };
  bad({ ...base, augment: { scale: [1.2, 0.8] } }, /b\.yaml: augment\.scale: must be \[min, max\] with min <= max/);
  bad(
    { ...base, augment: { colour_jitter: 0.2 } },
    /augment\.colour_jitter: is not a known field \(did you mean color_jitter\?\)/,
  );
  bad(
    { ...base, source: { kind: 'folder', dir: 'd' } },
    /source\.kind: is not one of the allowed values, got "folder"; allowed: imagefolder, csv/,
  );
  bad(
    { ...base, image: { height: 32, channels: 4 } },
    /image\.channels: is not one of the allowed values, got 4; allowed: 1, 3/,
  );
  bad(
    { ...base, source: { kind: 'csv', dir: 'd' } },
    /source\.dir: is not used with kind 'csv'[^]*source\.file: is required for kind 'csv'/,
  );
  bad({ ...base, source: { kind: 'imagefolder' } }, /source\.dir: is required for kind 'imagefolder'/);
  bad({ ...base, name: 'a b' }, /name: .*allowed: a string matching/);
  bad({ ...base, split: { val: 0.7 } }, /split\.val: .*allowed: a number in 0\.\.0\.5/);
  // the camelCase spelling of a key is its deprecated alias (one warning), not an error
  const aliased = parseClassifyDataConfig(
    { ...base, augment: { colorJitter: 0.3 }, outDir: 'o' },
    'alias-test.yaml',
    '/base',
  );
  assert.equal(aliased.augment && aliased.augment.colorJitter, 0.3);
  assert.equal(aliased.outDir, '/base/o');
  assert.equal(parseClassifyDataConfig({ ...base, augment: false }, 'b.yaml', '/base').augment, false);
});

test('classify data config file: errors give file:line:col of the field', () => {
  const { dir, cleanup } = tempDir('ocrops-classify-config-');
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'task: classify\nname: c\nsource:\n  kind: csv\n  file: x.csv\n  dir: d\nimage: { height: 32 }\n');
    rejects(
      () => loadClassifyDataConfig(f),
      'OCROPS_CONFIG_INVALID',
      /c\.yaml:6:\d+: source\.dir: is not used with kind 'csv'/,
    );
    writeFileSync(
      f,
      'task: classify\nname: c\nsource: { kind: csv, file: x.csv }\nimage: { height: 32 }\naugment:\n  translate: 0.9\n',
    );
    rejects(
      () => loadClassifyDataConfig(f),
      'OCROPS_CONFIG_INVALID',
      /c\.yaml:6:\d+: augment\.translate: .*allowed: a number in 0\.\.0\.5/,
    );
  } finally {
    cleanup();
  }
});

test('stratified split: every class in every split in proportion, deterministic, disjoint, independent of other classes', () => {
  const items = [];
  const sizes: Record<string, number> = { A: 100, B: 61, C: 20, D: 3 };
  for (const [label, n] of Object.entries(sizes))
    for (let i = 0; i < n; i++) items.push({ id: `${label}/${i}.jpg`, path: `/x/${label}/${i}.jpg`, label });
  const split = { val: 0.1, test: 0.1, seed: 42 };
  const a = stratifiedSplit(items, split);
  const b = stratifiedSplit([...items].reverse(), split);
  assert.deepEqual(a, b, 'the input order must not matter');
  for (const [label, n] of Object.entries(sizes)) {
    const want = classSplitSizes(n, split);
    for (const s of ['train', 'val', 'test'] as const)
      assert.equal(a[s].filter((it) => it.label === label).length, want[s], `${label} ${s}`);
  }
  assert.deepEqual(classSplitSizes(100, split), { train: 80, val: 10, test: 10 });
  assert.deepEqual(classSplitSizes(3, split), { train: 1, val: 1, test: 1 });
  const ids = [...a.train, ...a.val, ...a.test].map((it) => it.id);
  assert.equal(new Set(ids).size, items.length, 'disjoint and complete');
  const other = stratifiedSplit(items, { ...split, seed: 7 });
  assert.notDeepEqual(
    other.val.map((it) => it.id),
    a.val.map((it) => it.id),
    'another seed draws another split',
  );
  // class A's split does not depend on the other classes being there
  const onlyA = stratifiedSplit(
    items.filter((it) => it.label === 'A'),
    split,
  );
  assert.deepEqual(
    onlyA.val,
    a.val.filter((it) => it.label === 'A'),
  );
  // a fixed draw (integer arithmetic only): the same on every machine
  assert.deepEqual(
    a.val.filter((it) => it.label === 'C').map((it) => it.id),
    ['C/0.jpg', 'C/13.jpg'],
  );
  assert.deepEqual(
    a.test.filter((it) => it.label === 'C').map((it) => it.id),
    ['C/18.jpg', 'C/5.jpg'],
  );
  rejects(
    () =>
      stratifiedSplit(
        [
          { id: 'E/1', path: '', label: 'E' },
          { id: 'E/2', path: '', label: 'E' },
        ],
        split,
        'set',
      ),
    'OCROPS_DATA_CLASSES',
    /set: class 'E' has 2 image\(s\), too few/,
  );
});
