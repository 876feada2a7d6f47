import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDataConfig } from './config.js';
import { prepare, splitSizes } from './prepare.js';
import { openPrepared } from './shards.js';
import { tempDir, writeLineImage } from './testing/fixtures.js';

test('splitSizes: rounded shares, test takes the rest', () => {
  assert.deepEqual(splitSizes(1538, { train: 0.8, val: 0.1, test: 0.1 }), { train: 1230, val: 154, test: 154 });
  assert.deepEqual(splitSizes(2400, { train: 2000, val: 200, test: 200 }), { train: 2000, val: 200, test: 200 });
  assert.deepEqual(splitSizes(10, { train: 1, val: 0, test: 0 }), { train: 10, val: 0, test: 0 });
  assert.deepEqual(splitSizes(3, { train: 1, val: 1, test: 1 }), { train: 1, val: 1, test: 1 });
});

test('given splits (train/validation/test folders as in the reference CTCModel recipe) are kept as they are; charset derived', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sets = { train: ['AB1', 'BC2', 'CA3'], validation: ['AA9'], test: ['CB7', 'BB0'] };
  for (const [name, texts] of Object.entries(sets)) {
    mkdirSync(join(dir, name, 'images'), { recursive: true });
    const labels: Record<string, string> = {};
    for (let i = 0; i < texts.length; i++) {
      await writeLineImage(join(dir, name, 'images', `${i}.png`), 90 + 10 * i, 30, { channels: 3 });
      labels[`${i}.png`] = texts[i];
    }
    writeFileSync(join(dir, name, 'labels.json'), JSON.stringify(labels));
  }
  const cfg = parseDataConfig(
    {
      name: 'given',
      source: {
        format: 'labels-json',
        splits: { train: { path: 'train' }, val: { path: 'validation' }, test: { path: 'test' } },
      },
      charset: 'derive',
      image: { height: 30, channels: 3, width: 64 },
    },
    'given.yaml',
    dir,
  );
  const rep = await prepare(cfg, { progress: false });
  assert.deepEqual(rep.counts, { train: 3, val: 1, test: 2 });
  const ds = await openPrepared(cfg.output);
  assert.deepEqual(ds.splits.train.labels, ['AB1', 'BC2', 'CA3']);
  assert.deepEqual(ds.splits.val.labels, ['AA9']);
  assert.deepEqual(ds.charset.chars, [...'012379ABC']);
  assert.equal(ds.width, 64);
  assert.ok(ds.splits.test.widths.every((w) => w === 64));
  assert.equal(ds.channels, 3);
});

test('prepare from a config.json list and a folder of named files', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'crops'));
  const plates = ['A123BC77', 'B456CE99', 'K001MH12', 'X777XX77', 'M010OP50'];
  for (const p of plates) await writeLineImage(join(dir, 'crops', `${p}.png`), 160, 32);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(plates.map((p) => ({ file: `crops/${p}.png`, text: p }))));
  const a = parseDataConfig(
    {
      name: 'plates',
      source: { format: 'config-json', path: 'config.json' },
      charset: '0123456789ABEKMHOPCTYX',
      image: { height: 32 },
    },
    'p.yaml',
    dir,
  );
  const ra = await prepare(a, { progress: false });
  assert.equal(ra.counts.train + ra.counts.val + ra.counts.test, 5);
  const b = parseDataConfig(
    { name: 'folder', source: { format: 'folder', path: 'crops' }, charset: 'derive', image: { height: 16 } },
    'f.yaml',
    dir,
  );
  const rb = await prepare(b, { progress: false });
  assert.equal(rb.skipped.length, 0);
  const ds = await openPrepared(b.output);
  assert.equal(ds.splits.train.widths[0], 80);
  assert.deepEqual(
    [...ds.splits.train.labels, ...ds.splits.val.labels, ...ds.splits.test.labels].sort(),
    [...plates].sort(),
  );
});

test('synthetic lines outside an explicit charset: filtered and reported, or fatal with on_unknown_chars: fail', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = {
    name: 's',
    source: { format: 'synthetic' },
    charset: 'abcdefghijklmnopqrstuvwxyz ,0123456789ĐđPQHXườậệã',
    image: { height: 16 },
    synthetic: { count: 8, seed: 2 },
  };
  const rep = await prepare(parseDataConfig({ ...base, on_unknown_chars: 'filter' }, 's.yaml', dir), {
    progress: false,
  });
  assert.ok(rep.skipped.length > 0);
  assert.equal(rep.counts.train + rep.counts.val + rep.counts.test + rep.skipped.length, 8);
  const kept = await openPrepared(rep.output);
  for (const split of ['train', 'val', 'test'] as const)
    assert.equal(kept.splits[split].generated, kept.splits[split].count, `every ${split} line is generated`);
  assert.ok(rep.skipped.every((s) => s.stage === 'charset' && /outside the charset/.test(s.reason)));
  await assert.rejects(
    prepare(parseDataConfig({ ...base, on_unknown_chars: 'fail' }, 's.yaml', dir), { progress: false }),
    /label\(s\) hold characters outside the charset/,
  );
});

test('prepare writes into a hidden sibling and swaps it in at the end: readers and failed prepares keep the old output', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'crops'));
  const texts = ['ab1', 'ba2', 'cc3', 'ac4', 'cb5', 'ab6'];
  for (const x of texts) await writeLineImage(join(dir, 'crops', `${x}.png`), 120, 24);
  const base = { name: 'swap', source: { format: 'folder', path: 'crops' }, image: { height: 16 } };
  const first = parseDataConfig({ ...base, charset: 'abc123456' }, 'a.yaml', dir);
  await prepare(first, { progress: false });
  writeFileSync(join(first.output, 'stale.txt'), 'from an older prepare');
  const snapshot = () => ({
    meta: readFileSync(join(first.output, 'meta.json'), 'utf8'),
    train: readFileSync(join(first.output, 'train', 'index.json'), 'utf8'),
  });
  const before = snapshot();
  // a failing prepare (labels outside the charset, fatal) leaves the previous output whole and no work folder
  const failing = parseDataConfig({ ...base, charset: 'abc', on_unknown_chars: 'fail' }, 'b.yaml', dir);
  await assert.rejects(prepare(failing, { progress: false }), /outside the charset/);
  assert.deepEqual(snapshot(), before);
  // while a prepare runs, the output folder still holds the previous dataset
  const second = parseDataConfig({ ...base, charset: 'derive', image: { height: 20 } }, 'c.yaml', dir);
  const running = prepare(second, { progress: false });
  assert.deepEqual(snapshot(), before);
  const siblings = readdirSync(join(dir, 'data', 'prepared'));
  assert.ok(
    siblings.some((n) => n.startsWith('.swap.preparing-')),
    `work folder beside the output: ${siblings.join(', ')}`,
  );
  const rep = await running;
  assert.equal(rep.output, second.output);
  const ds = await openPrepared(second.output);
  assert.equal(ds.height, 20);
  assert.deepEqual(readdirSync(join(dir, 'data', 'prepared')), ['swap'], 'only the output remains');
  assert.ok(!readdirSync(second.output).includes('stale.txt'), 'the old folder was replaced as a whole');
});

test("synthetic.mix_train: generated dictionary lines join the train split only, written with the set's charset", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'crops'));
  const texts = ['ab1', 'ba2', 'cc3', 'ac4', 'cb5', 'ab6', 'ca7', 'bb8', 'ac9', 'ba0'];
  for (const x of texts) await writeLineImage(join(dir, 'crops', `${x}.png`), 120, 24);
  writeFileSync(join(dir, 'words.txt'), 'cab\nabba\nzebra\nbacca\nacc\n');
  const cfg = (mix: number) =>
    parseDataConfig(
      {
        name: `mix${mix}`,
        source: { format: 'folder', path: 'crops' },
        charset: 'derive',
        image: { height: 16 },
        synthetic: {
          text: 'dictionary',
          dictionary: 'words.txt',
          mix_train: mix,
          seed: 5,
          case: { upper: 0, title: 0, lower: 1 },
        },
      },
      'm.yaml',
      dir,
    );
  const plain = await prepare(cfg(0), { progress: false });
  const rep = await prepare(cfg(25), { progress: false });
  assert.deepEqual(rep.counts, { train: plain.counts.train + 25, val: plain.counts.val, test: plain.counts.test });
  const ds = await openPrepared(rep.output);
  const synth = ds.splits.train.ids.filter((id) => id.startsWith('synth_'));
  assert.equal(synth.length, 25);
  // the generated lines are recorded as the last 25 of the train shard (train.real_repeat weighs the others)
  assert.equal(ds.splits.train.generated, 25);
  assert.ok(ds.splits.train.ids.slice(-25).every((id) => id.startsWith('synth_')));
  assert.deepEqual(
    [ds.splits.val.generated, ds.splits.test.generated, (await openPrepared(plain.output)).splits.train.generated],
    [0, 0, 0],
  );
  for (const split of ['val', 'test'] as const)
    assert.ok(
      ds.splits[split].ids.every((id) => !id.startsWith('synth_')),
      `${split} stays real`,
    );
  // the charset is the real labels' (a-c and digits): 'zebra' is never drawn, numbers use digits of the set only
  assert.deepEqual(ds.charset.chars, (await openPrepared(plain.output)).charset.chars);
  const labels = ds.splits.train.labels.filter((_, i) => ds.splits.train.ids[i].startsWith('synth_'));
  for (const l of labels) assert.match(l, /^([abc]+|[0-9]{1,4})$/);
  assert.ok(labels.some((l) => /^[abc]+$/.test(l)));
  const bytes = readFileSync(join(rep.output, 'train', 'images.bin'));
  const again = await prepare(cfg(25), { progress: false });
  assert.equal(again.counts.train, rep.counts.train);
  assert.deepEqual(readFileSync(join(again.output, 'train', 'images.bin')), bytes, 'deterministic');
});

test('synthetic.mix_train with source.label_case: words drawn in capitals are labelled folded, in the folded charset', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  mkdirSync(join(dir, 'crops'));
  for (const x of ['Ab1', 'bA2', 'CC3', 'ac4', 'Cb5', 'ab6', 'ca7', 'BB8'])
    await writeLineImage(join(dir, 'crops', `${x}.png`), 120, 24);
  writeFileSync(join(dir, 'words.txt'), 'cab\nabba\nzebra\nbacca\nacc\n');
  const cfg = parseDataConfig(
    {
      name: 'folded',
      source: { format: 'folder', path: 'crops', label_case: 'lower' },
      charset: 'derive',
      image: { height: 16 },
      synthetic: {
        text: 'dictionary',
        dictionary: 'words.txt',
        mix_train: 20,
        seed: 3,
        digits_p: 0,
        case: { upper: 1, title: 0, lower: 0 },
      },
    },
    'f.yaml',
    dir,
  );
  const ds = await openPrepared((await prepare(cfg, { progress: false })).output);
  assert.deepEqual(
    ds.charset.chars.filter((c) => /[a-zA-Z]/.test(c)),
    ['a', 'b', 'c'],
  );
  const labels = ds.splits.train.labels.filter((_, i) => ds.splits.train.ids[i].startsWith('synth_'));
  assert.equal(labels.length, 20);
  // every word is drawn in capitals (case upper: 1, no numbers): without the fold none could be written
  for (const l of labels) assert.match(l, /^[abc]+$/);
});
