// The `ocrops` command: dispatches `ocrops <group> <command> [options]` to the packages' command tables.
import { OcropsError, runMain, type CommandTable } from '@ocrops/common';
import { groups } from './commands.js';

function groupList(): string {
  const lines = [
    'Usage: ocrops <group> <command> [options]',
    '',
    'Groups (`ocrops <group> --help` lists their commands):',
  ];
  for (const [name, group] of Object.entries(groups)) lines.push(`  ${name.padEnd(10)} ${group.summary}`);
  lines.push('', 'Every command takes --help. `ocrops --help --all` lists every command.');
  return lines.join('\n');
}

function commandList(group: string, table: CommandTable): string[] {
  return Object.entries(table).map(([name, cmd]) => `  ocrops ${`${group} ${name}`.padEnd(26)} ${cmd.summary}`);
}

// `ocrops ... | head` closes stdout early: end quietly instead of crashing with EPIPE
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/**
 * OCROPS_STOP_WITH_PARENT=1 (set by the sweep runner for its trials): when the parent's pipe to stdin closes (the parent
 * died), stop the clean way (SIGTERM: a training checkpoints and ends its tracked run).
 */
const stopWithParent = process.env.OCROPS_STOP_WITH_PARENT === '1';
if (stopWithParent) {
  let signalled = false;
  const stop = () => {
    if (signalled) return;
    signalled = true;
    process.kill(process.pid, 'SIGTERM');
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

await runMain(async () => {
  const [group, name, ...rest] = process.argv.slice(2);
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    if (name === '--all') {
      const tables = await Promise.all(
        Object.entries(groups).map(async ([g, def]) => commandList(g, await def.load())),
      );
      console.log(
        ['Usage: ocrops <group> <command> [options]    (every command takes --help)', '', ...tables.flat()].join('\n'),
      );
    } else {
      console.log(groupList());
    }
    return;
  }
  const def = groups[group];
  if (!def) throw new OcropsError('OCROPS_USAGE', `unknown command group '${group}'\n\n${groupList()}`);
  const table = await def.load();
  if (def.defaultCommand && !(name && table[name])) {
    await table[def.defaultCommand].run(process.argv.slice(3));
    return;
  }
  if (!name || name === '--help' || name === '-h') {
    console.log(
      [
        `Usage: ocrops ${group} <command> [options]    (every command takes --help)`,
        '',
        ...commandList(group, table),
      ].join('\n'),
    );
    return;
  }
  const cmd = table[name];
  if (!cmd) {
    throw new OcropsError(
      'OCROPS_USAGE',
      `unknown command '${group} ${name}'\n\n${commandList(group, table).join('\n')}`,
    );
  }
  await cmd.run(rest);
});
// a watched stdin keeps the event loop alive: leave explicitly (stdout/stderr pipes are synchronous on Linux)
if (stopWithParent) process.exit(process.exitCode ?? 0);
