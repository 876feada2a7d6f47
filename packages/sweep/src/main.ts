// Stand-alone entry for `sweep <command>` (the same commands `ocrops sweep ...` mounts), used by tests and scripts:
// node --conditions=@ocrops/source --import tsx packages/sweep/src/main.ts run --config ...
import { OcropsError, runMain } from '@ocrops/common';
import { commands } from './commands.js';

await runMain(async () => {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    const list = Object.entries(commands)
      .map(([n, c]) => `  sweep ${n.padEnd(8)} ${c.summary}`)
      .join('\n');
    if (!name || name === '--help' || name === '-h') return console.log(`Usage: sweep <command> [options]\n\n${list}`);
    throw new OcropsError('OCROPS_USAGE', `unknown command '${name}'\n\n${list}`);
  }
  await cmd.run(rest);
});
