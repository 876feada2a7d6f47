// The `ocrops` command: dispatches `ocrops <group> <command> [options]` to the packages' command tables.
import { OcropsError, runMain } from '@ocrops/common';
import type { CommandTable } from "@ocrops/common";
import { groups } from './commands.js';

function usage(): string {
  const lines = ['Usage: ocrops <group> <command> [options]    (every command takes --help)', ''];
  for (const [group, table] of Object.entries(groups)) {
    for (const [name, cmd] of Object.entries(table as CommandTable)) {
      lines.push(`  ocrops ${`${group} ${name}`.padEnd(26)} ${cmd.summary}`);
    }
  }
  return lines.join('\n');
}

// `ocrops ... | head` closes stdout early: end quietly instead of crashing with EPIPE
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await runMain(async () => {
  const [group, name, ...rest] = process.argv.slice(2);
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    console.log(usage());
    return;
  }
  const table = (groups as Record<string, CommandTable>)[group];
  if (!table) throw new OcropsError('OCROPS_USAGE', `unknown command group '${group}'\n\n${usage()}`);
  if (!name || name === '--help' || name === '-h') {
    console.log(usage().split('\n').filter((l) => l.includes(`ocrops ${group} `) || l.startsWith('Usage')).join('\n'));
    return;
  }
  const cmd = table[name];
  if (!cmd) throw new OcropsError('OCROPS_USAGE', `unknown command '${group} ${name}'\n\n${usage()}`);
  await cmd.run(rest);
});
