import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { readSource } from './readers.js';
import { tempDir, writeLineImage } from './testing/fixtures.js';

test('labels-json: {file: text} with images/ beside it; NFC; empty and non-string labels reported', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'images'));
  const nfd = 'Phường 4'.normalize('NFD');
  writeFileSync(join(dir, 'labels.json'), JSON.stringify({ 'b.png': nfd, 'a.png': 'Quận 1', 'c.png': '', 'd.png': 5 }));
  const r = await readSource({ format: 'labels-json', path: dir });
  assert.deepEqual(
    r.items.map((i) => i.id),
    ['a.png', 'b.png'],
  );
  assert.equal(r.items[0].path, join(dir, 'images', 'a.png'));
  assert.equal(r.items[1].label, 'Phường 4'.normalize('NFC'));
  assert.equal(r.skipped.length, 2);
  assert.match(r.skipped.map((s) => s.reason).join('\n'), /empty label for c\.png[\s\S]*d\.png is not a string/);
});

test('config-json: [{file, text}] list (the licence-plate recipe), duplicates reported', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const cfg = join(dir, 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify([
      { file: 'x/1.png', text: 'A123BC77' },
      { file: 'x/2.png', text: 'B456CE99' },
      { file: 'x/1.png', text: 'again' },
      { text: 'no file' },
    ]),
  );
  const r = await readSource({ format: 'config-json', path: cfg });
  assert.deepEqual(
    r.items.map((i) => [i.id, i.label, i.path]),
    [
      ['x/1.png', 'A123BC77', join(dir, 'x/1.png')],
      ['x/2.png', 'B456CE99', join(dir, 'x/2.png')],
    ],
  );
  assert.equal(r.skipped.length, 2);
  assert.match(r.skipped[0].reason, /listed twice/);
  assert.match(r.skipped[1].reason, /entry 3 has no "file"/);
  writeFileSync(cfg, '{"a": "b"}');
  await assert.rejects(readSource({ format: 'config-json', path: cfg }), /expected a list of/);
});

test('folder: file names are the labels (captcha), optional labelPattern', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  for (const n of ['22d5n.png', '2356g.png', 'notes.txt'])
    await writeLineImage(join(dir, n.replace('.txt', '.png')), 20, 10);
  writeFileSync(join(dir, 'readme.txt'), 'x');
  const r = await readSource({ format: 'folder', path: dir });
  assert.deepEqual(
    r.items.map((i) => [i.id, i.label]),
    [
      ['22d5n.png', '22d5n'],
      ['2356g.png', '2356g'],
      ['notes.png', 'notes'],
    ],
  );
  const p = await readSource({ format: 'folder', path: dir, labelPattern: '^(\\d\\w+)$' });
  assert.deepEqual(
    p.items.map((i) => i.label),
    ['22d5n', '2356g'],
  );
  assert.match(p.skipped[0].reason, /notes\.png: file name does not match/);
});

test('tags: "path label" per line (IIIT5K train.tags), bad lines named with file:line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const tags = join(dir, 'train.tags');
  writeFileSync(tags, 'train/1009_2.png You\ntrain/1017_1.png Rescue\n\ntrain/bad.png\ntrain/1023_15.png 143KM\r\n');
  const r = await readSource({ format: 'tags', path: tags });
  assert.deepEqual(
    r.items.map((i) => [i.id, i.label]),
    [
      ['train/1009_2.png', 'You'],
      ['train/1017_1.png', 'Rescue'],
      ['train/1023_15.png', '143KM'],
    ],
  );
  assert.equal(r.items[0].path, join(dir, 'train/1009_2.png'));
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0].reason, /train\.tags:4: expected "image-path label"/);
});

test('malformed labels.json names the file and line:column', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'labels.json'), '{\n "a.png": "x",\n "b.png" "y"\n}');
  await assert.rejects(readSource({ format: 'labels-json', path: join(dir, 'labels.json') }), (e: unknown) => {
    assert.ok(e instanceof OcropsError);
    assert.match(e.message, /labels\.json:3:\d+: malformed JSON/);
    return true;
  });
});
