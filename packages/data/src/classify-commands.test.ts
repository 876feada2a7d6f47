import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { OcropsError, captureLog } from '@ocrops/common';
import { preparedTask, openPreparedClassify } from './classify-batches.js';
import { commands } from './commands.js';
import { tempDir } from './testing/fixtures.js';

/** Runs `ocrops data <name> ...argv` and returns what it printed. */
function run(name: string, argv: string[]): Promise<string> {
  return captureLog(() => commands[name].run(argv));
}

async function writeSolid(path: string, v: number): Promise<void> {
  await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: v, g: 255 - v, b: 40 } } })
    .png()
    .toFile(path);
}

test('ocrops data prepare / stats with a task: classify config (CSV source): class table, skipped files, split.csv', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'img'));
  const rows = ['filename,label'];
  for (let i = 0; i < 9; i++) {
    await writeSolid(join(dir, 'img', `${i}.png`), i * 25);
    rows.push(`${i}.png,${i % 3 === 0 ? 'Painted Lady' : 'ORANGE TIP'}`);
  }
  writeFileSync(join(dir, 'img', 'x.png'), 'not a PNG');
  rows.push('x.png,ORANGE TIP');
  writeFileSync(join(dir, 'img', 'labels.csv'), `${rows.join('\n')}\n`);
  const cfg = join(dir, 'small.yaml');
  writeFileSync(
    cfg,
    `task: classify\nname: small\nsource: { kind: csv, file: ${join(dir, 'img', 'labels.csv')} }\n` +
      `image: { height: 8, width: 8, channels: 3 }\nsplit: { val: 0.2, test: 0.2, seed: 1 }\naugment: false\nout_dir: ${join(dir, 'out')}\n`,
  );
  const out = await run('prepare', ['--config', cfg, '--quiet']);
  assert.match(out, /small: 9 images in 2 classes \(train 5, val 2, test 2\), 1 skipped/);
  assert.match(out, /ORANGE TIP\s+4\s+1\s+1/);
  assert.ok(out.includes(`${join(dir, 'img', 'x.png')}: not an image`), out);
  assert.equal(preparedTask(join(dir, 'out')), 'classify');
  assert.equal(openPreparedClassify(join(dir, 'out')).augment, false);
  const stats = await run('stats', ['--config', cfg]);
  assert.match(stats, /Painted Lady\s+1\s+1\s+1/);

  // bad input stops with the path and what to do
  writeFileSync(join(dir, 'one.csv'), 'filename,label\n0.png,A\n1.png,A\n');
  writeFileSync(
    cfg,
    `task: classify\nname: one\nsource: { kind: csv, file: ${join(dir, 'one.csv')}, images_dir: ${join(dir, 'img')} }\nimage: { height: 8 }\nout_dir: ${join(dir, 'one')}\n`,
  );
  await assert.rejects(
    run('prepare', ['--config', cfg, '--quiet']),
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_DATA_CLASSES' && e.message.includes('one.csv'),
  );
});
