// Child-process entry of one sweep trial: `ocrops trainer train <args>`. When the sweep runner that started it dies
// (its stdin pipe closes), the training is stopped the clean way (SIGTERM: checkpoint, end the tracked run).
import { runMain } from '@ocrops/common';
import { commands } from '@ocrops/trainer';

let signalled = false;
const stopOnParentExit = () => {
  if (signalled) return;
  signalled = true;
  process.kill(process.pid, 'SIGTERM');
};
process.stdin.on('end', stopOnParentExit);
process.stdin.on('error', stopOnParentExit);
process.stdin.resume();

await runMain(() => commands.train.run(process.argv.slice(2)));
// stdin keeps the event loop alive: leave explicitly (stdout/stderr pipes are synchronous on Linux)
process.exit(process.exitCode ?? 0);
