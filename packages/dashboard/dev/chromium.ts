// The browser of the end-to-end tests, the dashboard benchmark and the screenshot script (`@ocrops/dashboard/chromium`):
// Debian's Chromium (installed by scripts/setup) driven by playwright-core, headless and offline (no background
// networking, updates or sync), so a test sees only the servers it started.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where scripts/setup installs Chromium (the Debian package). */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests must skip on this machine, or undefined when Chromium is there. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} absent (scripts/setup installs the chromium package)`;
}

/** Starts headless Chromium (for a test file: close it in the file's `after`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
