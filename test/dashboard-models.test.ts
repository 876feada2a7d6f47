// The dashboard's Models page in a real browser (Debian Chromium via playwright-core) against a real tracker server:
// two runs that logged a model folder and their lineage, registered as versions 1 and 2 of a model; the page lists the
// model, shows each version's metrics, lineage and aliases, moves an alias through its form (checked through the API),
// and a run page shows its "registered as" badge. Screenshots: test-output/dashboard/models*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '@ocrops/dashboard/chromium';
import { repoRoot } from '@ocrops/common';
import { ensureDashboardBuilt } from '@ocrops/dashboard';
import { Experiment, ModelRegistry, TrackerApi, startServer } from '@ocrops/tracker';
import { dirManifestMd5, hashDirectory } from '@ocrops/versioning';

const SHOTS = join(repoRoot(), 'test-output', 'dashboard');
const haveChromium = existsSync(CHROMIUM);

let server: Awaited<ReturnType<typeof startServer>> | undefined;
let browser: Browser | undefined;
let page: Page;
let dataDir: string;
const keys: string[] = [];
let registry: ModelRegistry;

async function loggedRun(url: string, apiKey: string, i: number): Promise<string> {
  const dir = join(dataDir, `model-${i}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ i }));
  writeFileSync(join(dir, 'weights.bin'), Buffer.alloc(1024, i));
  const exp = await Experiment.create({
    url,
    apiKey,
    project: 'ocr-models',
    name: `crnn-${i}`,
    spoolDir: join(dataDir, 'spool'),
    captureConsole: false,
    crashHandler: false,
  });
  exp.logMetrics({ val_acc_by_char: 0.8 + i / 100, val_loss: 1 / i }, { step: 10, epoch: 1 });
  exp.logOther('dataset_md5', 'ab'.repeat(16) + '.dir');
  exp.logOther('dataset_path', 'data/prepared/synthetic');
  exp.logOther('git_commit', String(i).repeat(40));
  exp.logOther('git_dirty', 'false');
  await exp.logModel('crnn', dir);
  exp.logOther('model_md5', dirManifestMd5(await hashDirectory(dir)));
  await exp.end();
  return exp.key;
}

before(async () => {
  if (!haveChromium) return;
  await ensureDashboardBuilt();
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'ocrops-dash-models-'));
  server = await startServer({ port: 0, dataDir: join(dataDir, 'tracker') });
  registry = new ModelRegistry(new TrackerApi({ url: server.url, apiKey: server.defaultKey }));
  for (const i of [1, 2]) keys.push(await loggedRun(server.url, server.defaultKey, i));
  await registry.register({
    modelName: 'vn-address',
    experimentKey: keys[0],
    aliases: ['champion'],
    tags: { data: 'synthetic' },
  });
  await registry.register({ modelName: 'vn-address', experimentKey: keys[1], aliases: ['candidate'] });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${server.url}/?apiKey=${server.defaultKey}#/`);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test(
  'Models page: list, versions with metrics, lineage and aliases; moving an alias from the page',
  { timeout: 120_000 },
  async (t) => {
    if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
    await page.click('[data-testid="nav-models"]');
    await page.waitForSelector('[data-testid="models"] a:text("vn-address")');
    const row = await page.textContent('[data-testid="models"] tbody tr');
    assert.match(row ?? '', /vn-address\s*2\s*2/);
    assert.match(row ?? '', /@candidate → 2/);
    assert.match(row ?? '', /@champion → 1/);
    await page.screenshot({ path: join(SHOTS, 'models.png') });

    await page.click('[data-testid="models"] a:text("vn-address")');
    await page.waitForSelector('[data-testid="versions"] tr[data-version="1"]');
    const v1 = await page.textContent('[data-testid="versions"] tr[data-version="1"]');
    assert.match(v1 ?? '', /@champion/);
    assert.match(v1 ?? '', /0\.81/); // val_acc_by_char at registration
    assert.match(v1 ?? '', /abababab/); // dataset md5
    assert.match(v1 ?? '', /11111111/); // git commit
    assert.match(v1 ?? '', /data=synthetic/);
    assert.ok(
      await page.$(`[data-testid="versions"] tr[data-version="1"] a[href="#/run/${keys[0]}"]`),
      'links to the source run',
    );

    // move champion to version 2 through the form
    await page.fill('[data-testid="alias-form"] input[name="alias"]', 'champion');
    await page.selectOption('[data-testid="alias-form"] select[name="version"]', '2');
    await page.click('[data-testid="alias-form"] button[type="submit"]');
    await page.waitForFunction(() =>
      /@champion/.test(
        document.querySelector('[data-testid="versions"] tr[data-version="2"] [data-testid="aliases"]')?.textContent ??
          '',
      ),
    );
    assert.equal((await registry.resolve('vn-address@champion')).version, '2');
    await page.waitForSelector(
      '[data-testid="alias-history"] td:text("removed"), [data-testid="alias-history"] tbody tr:nth-child(3)',
    );
    const history = await page.textContent('[data-testid="alias-history"] tbody tr');
    assert.match(history ?? '', /@champion\s*1\s*2/);
    await page.screenshot({ path: join(SHOTS, 'models-versions.png'), fullPage: true });

    // an invalid alias shows the server's message
    await page.fill('[data-testid="alias-form"] input[name="alias"]', '9bad');
    await page.click('[data-testid="alias-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="alias-message"].error');
    assert.match((await page.textContent('[data-testid="alias-message"]')) ?? '', /alias/);
  },
);

test('run page: "registered as" badge links to the model', { timeout: 60_000 }, async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  await page.goto(`${server!.url}/#/run/${keys[1]}`);
  await page.waitForSelector('[data-testid="registered-as"]');
  const badge = await page.textContent('[data-testid="registered-as"]');
  assert.match(badge ?? '', /registered as vn-address:2 @candidate @champion/);
  await page.click('[data-testid="registered-as"]');
  await page.waitForSelector('[data-testid="versions"]');
  await page.screenshot({ path: join(SHOTS, 'models-run-badge.png') });
});
