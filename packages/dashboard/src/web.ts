// Node side of the dashboard package: where the built single-page app lives and how to (re)build it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OcropsError } from '@ocrops/common';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** Absolute path of the built dashboard (`packages/dashboard/web-dist`), which the tracker server serves at `/`. */
export function webDistDir(): string {
  return join(packageDir, 'web-dist');
}

/** Runs the Vite build into web-dist (a few seconds). Throws OcropsError OCROPS_DASHBOARD_BUILD on failure. */
export async function buildDashboard(): Promise<void> {
  try {
    const { build } = await import('vite');
    await build({ configFile: join(packageDir, 'vite.config.mjs'), logLevel: 'warn' });
  } catch (err) {
    throw new OcropsError('OCROPS_DASHBOARD_BUILD', `building the dashboard failed: ${(err as Error).message}`, {
      hint: 'run `npx nx run dashboard:build` to see the full Vite output',
    });
  }
}

/**
 * Builds the dashboard when web-dist/index.html is missing or older than any source file (index.html, src/ui,
 * src/lib, and the tracker's wire contract packages/tracker/src/api that the app bundles). Returns true when it built.
 */
export async function ensureDashboardBuilt(opts: { force?: boolean } = {}): Promise<boolean> {
  const built = join(webDistDir(), 'index.html');
  if (!opts.force && existsSync(built)) {
    const builtAt = statSync(built).mtimeMs;
    const sources = [
      join(packageDir, 'index.html'),
      ...listFiles(join(packageDir, 'src', 'ui')),
      ...listFiles(join(packageDir, 'src', 'lib')),
      ...listFiles(join(packageDir, '..', 'tracker', 'src', 'api')),
    ];
    if (sources.every((f) => statSync(f).mtimeMs <= builtAt)) return false;
  }
  await buildDashboard();
  return true;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}
