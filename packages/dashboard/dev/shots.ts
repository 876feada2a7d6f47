// Screenshots of every view against the fixture server, for eyeballing the design without a tracker:
//   node --conditions=@ocrops/source --import tsx packages/dashboard/dev/shots.ts [outDir]   (default /tmp/ocrops-dashboard-shots)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDashboardBuilt } from '../src/web.js';
import { launchChromium } from './chromium.js';
import { demoStore, startFixtureServer } from './fixture-server.js';

const outDir = process.argv[2] ?? '/tmp/ocrops-dashboard-shots';
mkdirSync(outDir, { recursive: true });
await ensureDashboardBuilt();
const srv = await startFixtureServer({ store: demoStore(30, 3000) });
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
page.on('pageerror', (e) => console.log('page error:', e.message));
const key = (i: number) => i.toString(16).padStart(32, 'a');
const views: [string, string][] = [
  ['projects', '#/'],
  ['runs', '#/p/default/ocr'],
  ['run', `#/run/${key(1)}`],
  ['compare', `#/compare/default/ocr?keys=${[1, 2, 5].map(key).join(',')}`],
  ['sweep', '#/sweep/sweep0001?ws=default&project=ocr'],
];
for (const [name, hash] of views) {
  await page.goto(`${srv.url}/${hash}`);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(outDir, `${name}.png`) });
}
console.log(`screenshots in ${outDir}`);
await browser.close();
await srv.close();
