import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceDir } from './fs.js';

test('replaceDir moves a folder into place, replacing the old one whole; a failed move keeps the old one', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ocrops-common-fs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const make = (name: string, files: Record<string, string>) => {
    mkdirSync(join(root, name));
    for (const [f, text] of Object.entries(files)) writeFileSync(join(root, name, f), text);
    return join(root, name);
  };
  const dest = join(root, 'out');
  replaceDir(make('a', { 'x.txt': 'first' }), dest);
  assert.equal(readFileSync(join(dest, 'x.txt'), 'utf8'), 'first');
  replaceDir(make('b', { 'y.txt': 'second' }), dest);
  assert.deepEqual(readdirSync(dest), ['y.txt']);
  assert.deepEqual(readdirSync(root).sort(), ['out']);
  assert.throws(() => replaceDir(join(root, 'missing'), dest), /ENOENT/);
  assert.deepEqual(readdirSync(dest), ['y.txt']);
  assert.deepEqual(readdirSync(root).sort(), ['out']);
});
