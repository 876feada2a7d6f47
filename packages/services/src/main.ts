// Stand-alone entry of the versioning commands (used by scripts/quickstart and scripts/stop, so they work whether or
// not @ocrops/cli mounts the groups yet): `node --conditions=@ocrops/source --import tsx main.ts <group> <command> ...`.
import { join } from 'node:path';
import { OcropsError, repoRoot, runMain } from '@ocrops/common';
import { weightsCommands } from '@ocrops/versioning';
import { servicesCommands } from './commands.js';
import { runsSummary } from './summary.js';

await runMain(async () => {
  const [group, name, ...rest] = process.argv.slice(2);
  if (group === 'runs-summary') {
    const url = name ?? 'http://127.0.0.1:5959';
    console.log(await runsSummary({ url, dataDir: rest[0] ?? join(repoRoot(), '.ocrops', 'tracker') }));
    return;
  }
  const tables: Record<string, Record<string, { run(a: string[]): Promise<void> }>> = {
    weights: weightsCommands,
    services: servicesCommands,
  };
  const table = tables[group ?? ''];
  const cmd = table?.[name ?? ''];
  if (!cmd) {
    throw new OcropsError(
      'OCROPS_USAGE',
      `usage: main.ts weights pull | services start|stop|status | runs-summary [url] [tracker data dir]`,
    );
  }
  await cmd.run(rest);
});
