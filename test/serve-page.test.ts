// The web page of `ocrops serve` in headless Chromium (playwright-core): a real captcha-v2 image is uploaded through
// the page's file picker and its transcript appears. The model is the tiny CRNN trained here for a bounded time on four
// captcha images until it reads the first one exactly, so this proves the page -> /predict -> preprocessing -> ONNX
// runtime -> decoding path reproduces what the model reads, not that the model generalises to unseen captchas.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium } from '@ocrops/dashboard/chromium';
import { repoRoot, sharedDataset } from '@ocrops/common';
import { openModel, startServe, type RunningServer } from '@ocrops/serve';
import { trainTinyCaptchaModel } from './serve-fixtures.js';

const SHOTS = join(repoRoot(), 'test-output', 'serve');
const FILES = ['22d5n.png', '2356g.png', '23mdg.png', '23n88.png'];
const RUNTIME = (process.env.OCROPS_SERVE_TEST_RUNTIME ?? 'onnx') as 'onnx' | 'tfjs';

let dir: string | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`the web page reads an uploaded captcha-v2 image (${RUNTIME} runtime)`, { timeout: 600_000 }, async (t) => {
  const dataset = sharedDataset('captcha-v2');
  if (!dataset) return t.skip('../shared/datasets/captcha-v2 absent');
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} absent (scripts/setup installs it)`);
  dir = mkdtempSync(join(tmpdir(), 'ocrops-serve-page-'));
  const modelDir = join(dir, 'model');
  const trained = await trainTinyCaptchaModel(dataset, modelDir, { files: FILES, maxSeconds: 300 });
  console.log(
    `tiny captcha model: ${trained.steps} steps in ${trained.seconds.toFixed(0)} s, reads ${FILES[0]}: ${trained.reads}`,
  );
  assert.ok(
    trained.reads,
    `the tiny model did not learn to read ${FILES[0]} within the time bound (${trained.steps} steps)`,
  );

  const { runtime } = await openModel(modelDir, { runtime: RUNTIME });
  server = await startServe({ runtime, name: 'captcha', port: 0 });
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${server.url}/`);
  await page.setInputFiles('#file', join(dataset, 'images', FILES[0]));
  const text = page.locator('.result .text');
  await text.waitFor({ timeout: 60_000 });
  assert.equal(await text.getAttribute('data-text'), trained.label);
  assert.equal(await text.innerText(), trained.label);
  // each character is its own span, shaded by its confidence, with the confidence in its title
  const spans = text.locator('span');
  assert.equal(await spans.count(), trained.label.length);
  const shade = await spans.first().evaluate((el) => (el as HTMLElement).style.background);
  assert.match(shade, /rgb/);
  assert.match((await spans.first().getAttribute('title')) ?? '', /^2: 0\.\d{3}$/);
  assert.match(await page.locator('.result .meta').innerText(), /22d5n\.png · confidence 0\.\d{3} · \d+\.\d ms/);
  assert.equal(await page.locator('.result img').count(), 1);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'page.png') });

  // a file that is not an image shows the server's error instead of a transcript
  await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a png') });
  await page.locator('.result .error').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('.result .error').first().innerText(), /notes\.png: .*not an image/);
});
