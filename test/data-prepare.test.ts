// End-to-end scenarios of @ocrops/data (bad inputs reported, Label Studio import, reproducible shards) on real data: the shared vn-handwriting set (skipped when
// ../shared/datasets is absent), the shipped synthetic config, and a Label Studio export through the CLI command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { OcropsError, captureLog, repoRoot, sharedDataset } from '@ocrops/common';
import { commands, loadDataConfig, openPrepared, parseDataConfig, prepare } from '@ocrops/data';

function temp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-accept-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a data command in-process and returns what it printed. */
function runCommand(name: string, argv: string[]): Promise<string> {
  return captureLog(() => commands[name].run(argv));
}

/** sha256 of every file under dir, by relative path. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test('a copy with 3 truncated images and 2 out-of-charset labels reports exactly those 5', async (t) => {
  const src = sharedDataset('vn-handwriting');
  if (!src) return t.skip('../shared/datasets/vn-handwriting absent');
  const dir = temp(t);
  const labels: Record<string, string> = JSON.parse(readFileSync(join(src, 'labels.json'), 'utf8'));
  const names = Object.keys(labels).sort().slice(0, 100);
  mkdirSync(join(dir, 'set', 'images'), { recursive: true });
  const subset: Record<string, string> = {};
  for (const n of names) {
    copyFileSync(join(src, 'images', n), join(dir, 'set', 'images', n));
    subset[n] = labels[n];
  }
  const truncated = [names[3], names[40], names[77]];
  for (const n of truncated) {
    const p = join(dir, 'set', 'images', n);
    truncateSync(p, Math.floor(statSync(p).size / 3));
  }
  const badLabels = [names[10], names[60]];
  subset[badLabels[0]] = `${subset[badLabels[0]]} €`;
  subset[badLabels[1]] = `Số 5 "Nguyễn Trãi" @ Hà Nội`;
  writeFileSync(join(dir, 'set', 'labels.json'), JSON.stringify(subset, null, 1));
  const cfgFile = join(dir, 'vn.yaml');
  writeFileSync(
    cfgFile,
    `name: vn-copy\nsource: { format: labels-json, path: ${join(dir, 'set', 'labels.json')} }\ncharset: vietnamese\non_unknown_chars: filter\n` +
      `image: { height: 64, channels: 1, max_width: 2048 }\nsplit: { train: 0.8, val: 0.1, test: 0.1, seed: 42 }\noutput: ${join(dir, 'out')}\n`,
  );
  const report = await prepare(loadDataConfig(cfgFile), { progress: false });
  assert.equal(report.skipped.length, 5);
  const byStage = (s: string) =>
    report.skipped
      .filter((k) => k.stage === s)
      .map((k) => k.id)
      .sort();
  assert.deepEqual(byStage('image'), [...truncated].sort());
  assert.deepEqual(byStage('charset'), [...badLabels].sort());
  for (const k of report.skipped.filter((s) => s.stage === 'image')) {
    assert.ok(k.reason.startsWith(join(dir, 'set', 'images', k.id)), `reason names the path: ${k.reason}`);
    assert.match(k.reason, /truncated/);
  }
  assert.match(report.skipped.find((k) => k.id === badLabels[0])!.reason, /outside the charset: "€"/);
  assert.match(report.skipped.find((k) => k.id === badLabels[1])!.reason, /outside the charset: "\\"" "@"/);
  const total = report.counts.train + report.counts.val + report.counts.test;
  assert.equal(total, 95);
  const stats = JSON.parse(readFileSync(join(dir, 'out', 'stats.json'), 'utf8'));
  assert.equal(stats.counts.skipped, 5);
  assert.equal(stats.skipped.length, 5);
  const ds = await openPrepared(join(dir, 'out'));
  const prepared = new Set(['train', 'val', 'test'].flatMap((s) => ds.splits[s as 'train'].ids));
  for (const k of report.skipped) assert.ok(!prepared.has(k.id));

  // the same copy with on_unknown_chars: fail stops with the count and examples
  const strict = {
    ...parseDataConfig(
      {
        name: 'strict',
        source: { format: 'labels-json', path: join(dir, 'set', 'labels.json') },
        on_unknown_chars: 'fail',
        image: { height: 64 },
      },
      'strict.yaml',
      dir,
    ),
  };
  await assert.rejects(prepare(strict, { progress: false }), (e: unknown) => {
    assert.ok(e instanceof OcropsError);
    assert.equal(e.code, 'OCROPS_DATA_UNKNOWN_CHARS');
    assert.match(e.message, /2 label\(s\) hold characters outside the charset/);
    assert.ok(e.message.includes(badLabels[0]) && e.message.includes(badLabels[1]));
    return true;
  });
});

test('the shipped vn-handwriting config prepares all 1538 lines with 0 skipped', async (t) => {
  if (!sharedDataset('vn-handwriting')) return t.skip('../shared/datasets/vn-handwriting absent');
  const dir = temp(t);
  const out = await runCommand('prepare', [
    '--config',
    join(repoRoot(), 'configs/data/vn-handwriting.yaml'),
    '--output',
    join(dir, 'vn'),
    '--quiet',
  ]);
  assert.match(out, /dataset vn-handwriting: 1538 lines \(train 1230, val 154, test 154\), 0 skipped/);
  const ds = await openPrepared(join(dir, 'vn'));
  assert.equal(ds.height, 64);
  assert.equal(ds.splits.train.count + ds.splits.val.count + ds.splits.test.count, 1538);
});

test('Label Studio export of 3 tasks, one without caption -> 2 entries, the third named; malformed JSON', async (t) => {
  const dir = temp(t);
  const task = (id: number, img: string, caption?: string) => ({
    id,
    data: { captioning: img },
    annotations: [
      {
        id: id * 7,
        result: [
          { from_name: 'chc', to_name: 'image', type: 'choices', value: { choices: ['Good'] } },
          ...(caption
            ? [{ from_name: 'caption', to_name: 'image', type: 'textarea', value: { text: [caption] } }]
            : []),
        ],
      },
    ],
  });
  const exp = join(dir, 'label_studio_data.json');
  writeFileSync(
    exp,
    JSON.stringify([
      task(
        11,
        's3://ocr/data/train/images/0000_samples.png',
        '27A Hoàng Việt, Phường 4, Quận Tân Bình, TP Hồ Chí Minh',
      ),
      task(12, 's3://ocr/data/train/images/0001_samples.png', '59 Phạm Tu, Phường Phước Mỹ, Quận Sơn Trà, Đà Nẵng'),
      task(13, 's3://ocr/data/train/images/0002_samples.png'),
    ]),
  );
  const out = await runCommand('convert-labelstudio', ['--input', exp, '--out', join(dir, 'train', 'labels.json')]);
  const labels = JSON.parse(readFileSync(join(dir, 'train', 'labels.json'), 'utf8'));
  assert.deepEqual(Object.keys(labels), ['0000_samples.png', '0001_samples.png']);
  assert.match(out, /2 entries/);
  assert.match(
    out,
    /skipped 1 task\(s\):\n {2}task 13 \(s3:\/\/ocr\/data\/train\/images\/0002_samples\.png\) has no caption/,
  );

  const bad = join(dir, 'broken.json');
  writeFileSync(bad, '[\n  {"id": 1,\n   "data": {"captioning": "s3://b/x.png"}\n  ,, \n]');
  await assert.rejects(runCommand('convert-labelstudio', ['--input', bad]), (e: unknown) => {
    assert.ok(e instanceof OcropsError);
    assert.match(e.message, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: malformed JSON`));
    return true;
  });
});

test('prepare on the synthetic config twice with the same seed gives byte-identical shards', async (t) => {
  const dir = temp(t);
  const cfg = loadDataConfig(join(repoRoot(), 'configs/data/synthetic.yaml'));
  const a = await prepare({ ...cfg, output: join(dir, 'a') }, { progress: false });
  await prepare({ ...cfg, output: join(dir, 'b') }, { progress: false });
  assert.deepEqual(a.counts, { train: 2000, val: 200, test: 200 });
  const ha = hashTree(join(dir, 'a'));
  const hb = hashTree(join(dir, 'b'));
  assert.deepEqual(Object.keys(ha), [
    'meta.json',
    'stats.json',
    'test/images.bin',
    'test/index.json',
    'train/images.bin',
    'train/index.json',
    'val/images.bin',
    'val/index.json',
  ]);
  assert.deepEqual(ha, hb);
  assert.ok(a.seconds < 60, `prepare took ${a.seconds} s`);
  // another seed gives other lines (checked on a smaller count to keep the test quick)
  const small = { ...cfg, synthetic: { ...cfg.synthetic, count: 240 } };
  await prepare({ ...small, output: join(dir, 'c') }, { progress: false });
  await prepare(
    { ...small, synthetic: { ...small.synthetic, seed: small.synthetic.seed + 1 }, output: join(dir, 'd') },
    { progress: false },
  );
  assert.notEqual(hashTree(join(dir, 'c'))['train/images.bin'], hashTree(join(dir, 'd'))['train/images.bin']);
});

test('synth writes PNG + labels.json that prepare reads back as a labels-json set; stats prints the summary', async (t) => {
  const dir = temp(t);
  const out = await runCommand('synth', [
    '--out',
    join(dir, 'synth'),
    '--count',
    '12',
    '--height',
    '40',
    '--seed',
    '3',
  ]);
  assert.match(out, /wrote 12 lines/);
  const labels = JSON.parse(readFileSync(join(dir, 'synth', 'labels.json'), 'utf8'));
  assert.equal(Object.keys(labels).length, 12);
  const cfg = parseDataConfig(
    {
      name: 'synth-folder',
      source: { format: 'labels-json', path: join(dir, 'synth') },
      image: { height: 40 },
      split: { train: 10, val: 1, test: 1, seed: 1 },
      output: join(dir, 'prep'),
    },
    'synth-folder.yaml',
  );
  const rep = await prepare(cfg, { progress: false });
  assert.deepEqual(rep.counts, { train: 10, val: 1, test: 1 });
  assert.equal(rep.skipped.length, 0);
  const ds = await openPrepared(join(dir, 'prep'));
  // PNG round trip keeps the synthetic pixels: widths equal the rendered widths at the same height
  const first = ds.splits.train.ids[0];
  const { default: sharp } = await import('sharp');
  assert.equal((await sharp(join(dir, 'synth', 'images', first)).metadata()).width, ds.splits.train.widths[0]);
  const stats = await runCommand('stats', ['--dir', join(dir, 'prep')]);
  assert.match(stats, /dataset synth-folder: 12 lines \(train 10, val 1, test 1\), 0 skipped/);
  assert.match(stats, /charset \(vietnamese\): 207 characters \+ blank = 208 classes/);
  await assert.rejects(runCommand('stats', ['--dir', join(dir, 'nothing')]), /stats\.json not found/);
  await assert.rejects(runCommand('prepare', []), /--config is required/);
  await assert.rejects(
    runCommand('prepare', ['--confg', 'x']),
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_USAGE',
  );
});

test("synth --text dictionary writes words of the word list; --config takes a data config's generator and image size", async (t) => {
  const dir = temp(t);
  writeFileSync(join(dir, 'words.txt'), 'harbour\nlantern\nmeadow\n');
  writeFileSync(
    join(dir, 'words.yaml'),
    [
      'name: words',
      'source: { format: folder, path: crops }',
      'image: { height: 24, channels: 3 }',
      'synthetic: { text: dictionary, dictionary: words.txt, seed: 4, digits_p: 0, invert_p: 1 }',
    ].join('\n'),
  );
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  await runCommand('synth', ['--out', 'a', '--count', '6', '--config', 'words.yaml']);
  const labels: Record<string, string> = JSON.parse(readFileSync(join(dir, 'a', 'labels.json'), 'utf8'));
  assert.equal(Object.keys(labels).length, 6);
  for (const w of Object.values(labels)) assert.ok(['harbour', 'lantern', 'meadow'].includes(w.toLowerCase()), w);
  const { default: sharp } = await import('sharp');
  const png = join(dir, 'a', 'images', Object.keys(labels)[0]);
  const meta = await sharp(png).metadata();
  assert.equal(meta.height, 24);
  assert.equal(meta.channels, 3);
  assert.ok((await sharp(png).stats()).channels[0].mean < 110, 'invert_p 1: light ink on dark paper');
  // --seed over the config's; --text over the config's
  await runCommand('synth', ['--out', 'b', '--count', '6', '--config', 'words.yaml', '--seed', '5']);
  assert.notDeepEqual(JSON.parse(readFileSync(join(dir, 'b', 'labels.json'), 'utf8')), labels);
  await runCommand('synth', ['--out', 'c', '--count', '3', '--config', 'words.yaml', '--text', 'address']);
  for (const l of Object.values(JSON.parse(readFileSync(join(dir, 'c', 'labels.json'), 'utf8')) as string[]))
    assert.match(l, / /);
  await assert.rejects(
    runCommand('synth', ['--out', 'd', '--text', 'poems']),
    /--text must be 'address', 'dictionary' or 'pattern', got 'poems'/,
  );
  // --pattern: texts of a regular expression
  await runCommand('synth', ['--out', 'e', '--count', '8', '--pattern', '[A-Z]{2}-\\d{4}']);
  for (const l of Object.values(JSON.parse(readFileSync(join(dir, 'e', 'labels.json'), 'utf8')) as string[]))
    assert.match(l, /^[A-Z]{2}-\d{4}$/);
  // a config's given charset limits the pattern's classes, as prepare does
  writeFileSync(
    join(dir, 'codes.yaml'),
    [
      'name: codes',
      'source: { format: synthetic }',
      "charset: 'AB12'",
      'image: { height: 32 }',
      "synthetic: { text: pattern, pattern: '[A-Z]\\d' }",
    ].join('\n'),
  );
  await runCommand('synth', ['--out', 'g', '--count', '12', '--config', 'codes.yaml']);
  const codes = Object.values(JSON.parse(readFileSync(join(dir, 'g', 'labels.json'), 'utf8')) as string[]);
  for (const l of codes) assert.match(l, /^[AB][12]$/);
  assert.ok(new Set(codes).size > 2);
  // a read source's derived charset (its labels are read for it) and label case, as prepare mixes lines in
  mkdirSync(join(dir, 'plates'));
  writeFileSync(join(dir, 'plates', 'labels.json'), JSON.stringify({ 'a.png': 'Xb1', 'b.png': 'Yc2', 'c.png': 'xc1' }));
  writeFileSync(
    join(dir, 'plates.yaml'),
    [
      'name: plates',
      "source: { format: labels-json, path: plates, label_case: lower, text_pattern: '[A-Za-z]{2}\\d' }",
      'charset: derive',
      'image: { height: 32 }',
      'synthetic: { text: pattern, seed: 2 }',
    ].join('\n'),
  );
  await runCommand('synth', ['--out', 'h', '--count', '40', '--config', 'plates.yaml']);
  const plates = Object.values(JSON.parse(readFileSync(join(dir, 'h', 'labels.json'), 'utf8')) as string[]);
  for (const l of plates) assert.match(l, /^[bcxy]{2}[12]$/, 'lower case, within the charset derived from the labels');
  assert.ok(new Set(plates).size > 8);
  await assert.rejects(runCommand('synth', ['--out', 'f', '--text', 'pattern']), /--text pattern needs --pattern/);
  await assert.rejects(runCommand('synth', ['--out', 'f', '--pattern', '(?!x)']), /lookarounds are not supported/);
});
