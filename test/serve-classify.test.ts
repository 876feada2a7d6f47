// `ocrops serve` with an image classifier, on both runtimes (onnxruntime-node and tfjs): OIP metadata and infer over
// HTTP JSON (BYTES and UINT8 pixels, `top_k`), the official tritonclient[http] (binary extension), /predict, bad input,
// and the top-5 web page in headless Chromium with a real butterfly image. The model is a tiny cnn4 fitted on twelve
// butterfly images until it labels them all (see serve-classify-fixtures.ts): the served answers are compared with
// the species of the images and with the model's own tfjs probabilities.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { repoRoot } from '@ocrops/common';
import { decodeLine } from '@ocrops/data';
import { loadClassifier } from '@ocrops/model';
import { openModel, startServe, type RunningServer } from '@ocrops/serve';
import { butterfliesTrain, tinyClassifierConfig, trainTinyClassifier } from './serve-classify-fixtures.js';
import { postForJson, runPython, tritonclientPython } from './utils.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(repoRoot(), 'test-output', 'serve');
const TRAIN = butterfliesTrain();
const cfg = tinyClassifierConfig();

let dir: string | undefined;
let fitted: Awaited<ReturnType<typeof trainTinyClassifier>>;
/** The model's own probabilities of every fixture image (tfjs forward of the images resized as the contract says). */
let own: Float32Array[];

before(async () => {
  if (!TRAIN) return;
  dir = mkdtempSync(join(tmpdir(), 'ocrops-serve-cls-'));
  fitted = await trainTinyClassifier(TRAIN, join(dir, 'model'), 120);
  console.log(`tiny classifier: ${fitted.steps} steps, labels all 12 training images: ${fitted.fits}`);
  const { model } = await loadClassifier(join(dir, 'model'));
  own = [];
  for (const f of fitted.files) {
    const img = await decodeLine(f, { height: cfg.height, width: cfg.width, channels: 3 });
    own.push(
      tf.tidy(
        () =>
          tf
            .softmax(
              model.forward(
                tf.tensor4d(
                  Float32Array.from(img.data, (v) => v / 255),
                  [1, cfg.height, cfg.width, 3],
                ),
                false,
              ),
            )
            .dataSync() as Float32Array,
      ),
    );
  }
  model.dispose();
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The classes of `p` by decreasing probability. */
const ranked = (p: Float32Array, classes: string[]) =>
  Array.from(p.keys())
    .sort((a, b) => p[b] - p[a])
    .map((k) => ({ label: classes[k], p: p[k] }));

function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return postForJson(url, JSON.stringify(body), 'application/json');
}

for (const runtimeName of ['onnx', 'tfjs'] as const) {
  describe(
    `ocrops serve with an image classifier (${runtimeName} runtime)`,
    { skip: !TRAIN && 'butterflies-75 is absent from ../shared/datasets' },
    () => {
      let server: RunningServer;
      before(async () => {
        const { runtime } = await openModel(join(dir!, 'model'), { runtime: runtimeName });
        server = await startServe({ runtime, name: 'butterflies', port: 0, maxBatch: 8, maxDelayMs: 20 });
      });
      after(async () => {
        await server?.close();
      });

      test('the fixture model labels its twelve images', () => {
        assert.ok(
          fitted.fits,
          `the tiny classifier did not fit its 12 images within the time bound (${fitted.steps} steps)`,
        );
      });

      test("OIP metadata and infer (JSON): top_k labels and probabilities equal the model's own, BYTES and UINT8 pixels", async () => {
        const meta = (await (await fetch(`${server.url}/v2/models/butterflies`)).json()) as Record<string, any>;
        assert.deepEqual(meta.outputs, [
          { name: 'label', datatype: 'BYTES', shape: [-1, -1] },
          { name: 'probability', datatype: 'FP32', shape: [-1, -1] },
        ]);
        assert.deepEqual(meta.inputs[1], { name: 'pixels', datatype: 'UINT8', shape: [-1, 32, 32, 3] });
        assert.deepEqual(
          [meta.parameters.task, meta.parameters.num_classes, meta.parameters.top_k],
          ['classify', 6, 5],
        );

        const picks = [0, 3, 7, 10];
        const data = picks.map((i) => readFileSync(fitted.files[i]).toString('base64'));
        const r = await post(`${server.url}/v2/models/butterflies/infer`, {
          id: 'b1',
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [picks.length], data }],
          parameters: { top_k: 3 },
        });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const [label, prob] = r.json.outputs as Array<{
          name: string;
          datatype: string;
          shape: number[];
          data: unknown[];
        }>;
        assert.deepEqual(
          [r.json.id, label.name, label.datatype, label.shape, prob.name, prob.datatype, prob.shape],
          ['b1', 'label', 'BYTES', [4, 3], 'probability', 'FP32', [4, 3]],
        );
        picks.forEach((i, b) => {
          const want = ranked(own[i], fitted.classes).slice(0, 3);
          assert.equal(
            label.data[b * 3],
            fitted.classes[fitted.labels[i]],
            `image ${i} is a ${fitted.classes[fitted.labels[i]]}`,
          );
          assert.deepEqual(
            label.data.slice(b * 3, b * 3 + 3),
            want.map((w) => w.label),
          );
          want.forEach((w, k) =>
            assert.ok(Math.abs((prob.data[b * 3 + k] as number) - w.p) < 1e-4, `p ${prob.data[b * 3 + k]} vs ${w.p}`),
          );
        });

        // a UINT8 pixel tensor: the default top-k (5), probabilities descending and summing to at most 1
        const px = await post(`${server.url}/v2/models/butterflies/infer`, {
          inputs: [
            { name: 'pixels', datatype: 'UINT8', shape: [1, 32, 32, 3], data: new Array(32 * 32 * 3).fill(255) },
          ],
          outputs: [{ name: 'probability' }],
        });
        assert.equal(px.status, 200, JSON.stringify(px.json));
        const pp = (px.json.outputs as Array<{ name: string; shape: number[]; data: number[] }>)[0];
        assert.deepEqual([pp.name, pp.shape], ['probability', [1, 5]]);
        assert.ok(
          pp.data.every((v, k) => k === 0 || v <= pp.data[k - 1]) && pp.data.reduce((a, v) => a + v, 0) <= 1 + 1e-5,
        );
      });

      test('/predict: multipart and raw uploads give {top: [{label, p}]}; ?top_k; bad input is a 400 naming the problem', async () => {
        const form = new FormData();
        form.append('file', new Blob([readFileSync(fitted.files[5])], { type: 'image/jpeg' }), 'b5.jpg');
        form.append('file', new Blob([readFileSync(fitted.files[8])], { type: 'image/jpeg' }), 'b8.jpg');
        const res = await fetch(`${server.url}/predict`, { method: 'POST', body: form });
        assert.equal(res.status, 200);
        const body = (await res.json()) as {
          results: Array<{ name: string; top: Array<{ label: string; p: number; id: number }>; ms: number }>;
        };
        assert.deepEqual(
          body.results.map((r) => [r.name, r.top.length]),
          [
            ['b5.jpg', 5],
            ['b8.jpg', 5],
          ],
        );
        [5, 8].forEach((i, b) => {
          const want = ranked(own[i], fitted.classes).slice(0, 5);
          assert.deepEqual(
            body.results[b].top.map((c) => c.label),
            want.map((w) => w.label),
          );
          assert.ok(Math.abs(body.results[b].top[0].p - want[0].p) < 1e-4);
        });
        const raw = await fetch(`${server.url}/predict?top_k=2`, {
          method: 'POST',
          body: readFileSync(fitted.files[1]),
          headers: { 'content-type': 'image/jpeg' },
        });
        const one = (await raw.json()) as { top: Array<{ label: string; p: number }> };
        assert.deepEqual(
          one.top.map((c) => c.label),
          ranked(own[1], fitted.classes)
            .slice(0, 2)
            .map((w) => w.label),
        );

        const bad = async (url: string, init: RequestInit, re: RegExp) => {
          const r = await fetch(url, init);
          const j = (await r.json()) as { error: string };
          assert.equal(r.status, 400, j.error);
          assert.match(j.error, re);
        };
        await bad(
          `${server.url}/predict?top_k=7`,
          { method: 'POST', body: readFileSync(fitted.files[1]) },
          /top_k must be an integer in 1\.\.6/,
        );
        await bad(
          `${server.url}/predict`,
          { method: 'POST', body: Buffer.from('not an image') },
          /not an image|unsupported|image/i,
        );
        const infer = `${server.url}/v2/models/butterflies/infer`;
        const json = (b: unknown): RequestInit => ({
          method: 'POST',
          body: JSON.stringify(b),
          headers: { 'content-type': 'application/json' },
        });
        await bad(
          infer,
          json({
            inputs: [
              { name: 'pixels', datatype: 'UINT8', shape: [1, 32, 30, 3], data: new Array(32 * 30 * 3).fill(0) },
            ],
          }),
          /\[1,32,30,3\].*\[N, 32, 32, 3\]/,
        );
        await bad(
          infer,
          json({
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['aGk='] }],
            outputs: [{ name: 'text' }],
          }),
          /unknown output 'text'.*label, probability/,
        );
        await bad(
          infer,
          json({
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['aGk='] }],
            parameters: { top_k: 0 },
          }),
          /top_k/,
        );
      });

      test('the official tritonclient[http] client: metadata, BYTES (binary extension) with top_k, UINT8 pixels, errors', async (t) => {
        const python = tritonclientPython();
        if (!python) {
          t.skip('tritonclient[http] is not installed in .venv (run scripts/setup)');
          return;
        }
        const args = [
          join(repoRoot(), 'test', 'serve_tritonclient_classify.py'),
          server.url.replace('http://', ''),
          'butterflies',
          '32',
          '32',
          '3',
          fitted.files[0],
          fitted.files[11],
        ];
        const py = await runPython(python, args);
        assert.equal(py.status, 0, `tritonclient script failed:\n${py.stderr}`);
        const out = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
        assert.equal(out.model_ready, true);
        assert.equal(out.metadata.parameters.task, 'classify');
        assert.deepEqual(
          out.binary.label.map((row: string[]) => row.length),
          [3, 3],
        );
        assert.equal(out.binary.label[0][0], fitted.classes[fitted.labels[0]]);
        assert.equal(out.binary.label[1][0], fitted.classes[fitted.labels[11]]);
        assert.equal(out.binary.probability_dtype, 'float32');
        assert.ok(Math.abs(out.binary.probability[1][0] - ranked(own[11], fitted.classes)[0].p) < 1e-4);
        assert.deepEqual(
          [out.pixels.label_shape, out.pixels.probability_shape],
          [
            [1, 5],
            [1, 5],
          ],
        );
        assert.match(out.error, /top_k must be an integer in 1\.\.6/);
      });

      test(
        'the web page shows an uploaded butterfly with its top-5 classes as bars (headless Chromium)',
        { timeout: 300_000 },
        async (t) => {
          if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} absent (scripts/setup installs it)`);
          const browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
          });
          try {
            const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
            page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
            await page.goto(`${server.url}/`);
            assert.match(await page.locator('.sub').innerText(), /image classifier butterflies \(6 classes\)/);
            const i = 6;
            await page.setInputFiles('#file', fitted.files[i]);
            const bars = page.locator('.result .bar');
            await bars.first().waitFor({ timeout: 60_000 });
            assert.equal(await bars.count(), 5);
            const want = ranked(own[i], fitted.classes).slice(0, 5);
            const labels = await bars.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.label));
            assert.deepEqual(
              labels,
              want.map((w) => w.label),
            );
            assert.equal(labels[0], fitted.classes[fitted.labels[i]], 'the top bar is the species of the image');
            const widths = await bars
              .locator('.fill')
              .evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.width)));
            assert.ok(
              Math.abs(widths[0] - 100 * want[0].p) < 0.1 && widths.every((w, k) => k === 0 || w <= widths[k - 1]),
              `bar widths ${widths}`,
            );
            assert.match(await bars.first().locator('.p').innerText(), /^\d+\.\d %$/);
            assert.equal(await page.locator('.result img').count(), 1);
            assert.ok(
              await page
                .locator('.result img')
                .evaluate(
                  (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth === 128,
                ),
              'the uploaded image is shown',
            );
            mkdirSync(SHOTS, { recursive: true });
            await page.screenshot({ path: join(SHOTS, `classify-page-${runtimeName}.png`) });
            await page.setInputFiles('#file', {
              name: 'notes.png',
              mimeType: 'image/png',
              buffer: Buffer.from('not a png'),
            });
            await page.locator('.result .error').waitFor({ timeout: 30_000 });
            assert.match(await page.locator('.result .error').first().innerText(), /notes\.png: /);
          } finally {
            await browser.close();
          }
        },
      );
    },
  );
}
