// The decoder's character language model end to end: a train config with `decode.lm` saves lm.json beside the best
// weights and records it in ocrops.json; evaluate, predict, export and the server's model loading read it from there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcropsError, repoRoot } from '@ocrops/common';
import { writeSyntheticFolder } from '@ocrops/data';
import { CharNgramLm, readContract } from '@ocrops/model';
import { openModel, startServe } from '@ocrops/serve';
import { evaluate, exportModel, loadTrainConfig, predict, train } from '@ocrops/trainer';
import { oneEpochSets, tinyDataConfig } from './utils.js';

const root = repoRoot();

const rejectsWith = (code: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof OcropsError, String(e));
  assert.equal(e.code, code);
  assert.match(e.message, re);
  return true;
};

test('decode.lm: trained from the training labels, saved with the model, read by evaluate, predict, export and serve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-lm-'));
  try {
    const data = tinyDataConfig(join(dir, 'data'), 60);
    const out = join(dir, 'run');
    const cfg = loadTrainConfig(join(root, 'configs/train/synthetic.yaml'), [
      ...oneEpochSets(data, out),
      'decode.method=beam',
      'decode.beam_width=4',
      'decode.lm.order=5',
      'decode.lm.weight=0.7',
      'decode.lm.bonus=6', // a bonus this large makes the search add characters a barely trained model does not see
      'decode.lm.groups=["0123456789"]',
    ]);
    await train(cfg, { quiet: true });
    const best = join(out, 'best');
    const meta = JSON.parse(readFileSync(join(best, 'ocrops.json'), 'utf8'));
    assert.deepEqual(meta.decode, {
      method: 'beam',
      beamWidth: 4,
      lm: { order: 5, weight: 0.7, bonus: 6, file: 'lm.json' },
    });
    const lm = CharNgramLm.fromJSON(
      JSON.parse(readFileSync(join(best, 'lm.json'), 'utf8')),
      'lm.json',
      meta.numClasses,
    );
    assert.equal(lm.order, 5);
    assert.equal(lm.lines, 48); // the 80% training share of 60 lines
    const digitIds = [...'0123456789'].map((c) => meta.charset.chars.indexOf(c) + 1); // class 0 is the blank
    assert.deepEqual(lm.groups, [digitIds]);
    const [one, seven] = [digitIds[1], digitIds[7]]; // the digits share one probability: after '1' and after '7' alike
    assert.equal(lm.logProbs(lm.contextOf([one]))[one], lm.logProbs(lm.contextOf([seven]))[seven]);
    const prepared = join(dir, 'data', 'prepared');
    const ev = (o: { lm?: boolean; beam?: number } = {}) =>
      evaluate({
        modelDir: best,
        preparedDir: prepared,
        metricsPath: join(dir, 'metrics.json'),
        errorsPath: join(dir, 'errors.json'),
        quiet: true,
        ...o,
      });
    assert.equal((await ev()).metrics.test_beam_width, 4);
    assert.equal((await ev({ beam: 1 })).metrics.test_beam_width, 1);

    // export copies lm.json and the contract names it; the server's loading reads it back
    const exported = join(dir, 'export');
    const res = await exportModel({ model: out, out: exported, format: 'tfjs' });
    assert.ok(res.files.includes('lm.json'));
    const contract = readContract(join(exported, 'ocrops-model.json'));
    assert.deepEqual(contract.decoding.lm, { order: 5, weight: 0.7, bonus: 6, file: 'lm.json' });
    assert.equal(contract.decoding.method, 'beam');
    const labels = await writeSyntheticFolder(join(dir, 'images'), { count: 2, height: 32, seed: 9 });
    const inputs = Object.keys(labels).map((f) => join(dir, 'images', 'images', f));
    const read = await predict({ modelDir: exported, inputs });
    const greedy = await predict({ modelDir: exported, inputs, beam: 1 });
    assert.notDeepEqual(
      read.map((p) => p.text),
      greedy.map((p) => p.text),
    );
    // the server reads by the contract's decoding (with lm.json) unless a request asks for a beam width
    const { runtime } = await openModel(exported, { runtime: 'tfjs', threads: 1 });
    assert.equal(runtime.lm?.order, 5);
    const server = await startServe({ runtime, name: 'lm', port: 0, maxBatch: 4, maxDelayMs: 5 });
    try {
      const post = async (file: string, query = '') => {
        const res = await fetch(`${server.url}/predict${query}`, { method: 'POST', body: readFileSync(file) });
        assert.equal(res.status, 200);
        return ((await res.json()) as { text: string }).text;
      };
      for (const [i, file] of inputs.entries()) {
        assert.equal(await post(file), read[i].text);
        assert.equal(await post(file, '?beam=1'), greedy[i].text);
      }
    } finally {
      await server.close();
    }

    // --no-lm needs no file; without it the missing file is named
    rmSync(join(best, 'lm.json'));
    assert.equal((await ev({ lm: false })).metrics.test_beam_width, 4);
    await assert.rejects(ev(), rejectsWith('OCROPS_LM_INVALID', /cannot read the language model .*best\/lm\.json/));
    const noLm = await exportModel({ model: out, out: join(dir, 'export-no-lm'), format: 'tfjs', lm: false });
    assert.equal(noLm.contract.task === 'ocr' && noLm.contract.decoding.lm, undefined);
    assert.equal(existsSync(join(dir, 'export-no-lm', 'lm.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decode.lm: a config asking for it without beam search, or for a classifier, is refused at load', () => {
  assert.throws(
    () => loadTrainConfig(join(root, 'configs/train/synthetic.yaml'), ['decode.method=greedy']),
    rejectsWith('OCROPS_CONFIG_INVALID', /decode\.lm\.order: fuses a language model into the beam search/),
  );
  assert.throws(
    () => loadTrainConfig(join(root, 'configs/train/butterflies.yaml'), ['decode.method=beam', 'decode.lm.order=4']),
    rejectsWith('OCROPS_CONFIG_INVALID', /decode\.lm\.order: applies to `task: ocr` only/),
  );
});

test('decode.lm.groups: an unknown character, a group of one, overlapping groups are named before training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-lm-'));
  try {
    const data = tinyDataConfig(join(dir, 'data'), 20);
    const cfg = loadTrainConfig(join(root, 'configs/train/synthetic.yaml'), [
      ...oneEpochSets(data, join(dir, 'run')),
      'decode.lm.groups=["0123456789", "x€"]',
    ]);
    await assert.rejects(
      train(cfg, { quiet: true }),
      rejectsWith('OCROPS_CONFIG_INVALID', /decode\.lm\.groups\[1\] \('x€'\): '€' not in the dataset's charset/),
    );
    assert.equal(existsSync(join(dir, 'run', 'best')), false);
    const single = loadTrainConfig(join(root, 'configs/train/synthetic.yaml'), [
      ...oneEpochSets(data, join(dir, 'run')),
      'decode.lm.groups=["00"]',
    ]);
    await assert.rejects(
      train(single, { quiet: true }),
      rejectsWith('OCROPS_CONFIG_INVALID', /decode\.lm\.groups\[0\] \('00'\) must list at least 2 distinct class ids/),
    );
    const overlapping = loadTrainConfig(join(root, 'configs/train/synthetic.yaml'), [
      ...oneEpochSets(data, join(dir, 'run')),
      'decode.lm.groups=["0123", "3456"]',
    ]);
    await assert.rejects(
      train(overlapping, { quiet: true }),
      rejectsWith(
        'OCROPS_CONFIG_INVALID',
        /decode\.lm\.groups\[1\] \('3456'\) shares a character with decode\.lm\.groups\[0\] \('0123'\)/,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
