// Standalone entry of the trainer commands (`node --conditions=@ocrops/source --import tsx packages/trainer/src/main.ts
// train --config ...`), the same commands `ocrops trainer <name>` runs; used by the end-to-end tests.
import { OcropsError, runMain } from '@ocrops/common';
import { commands } from './commands.js';

await runMain(async () => {
  const [name, ...rest] = process.argv.slice(2);
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    const list = Object.entries(commands)
      .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
      .join('\n');
    if (!name || name === '--help' || name === '-h') {
      console.log(`Usage: trainer <command> [options]\n\n${list}`);
      return;
    }
    throw new OcropsError('OCROPS_USAGE', `unknown trainer command '${name}'\n\n${list}`);
  }
  await cmd.run(rest);
});
