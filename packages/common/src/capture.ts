// Capturing what code prints with console.log, for tests of CLI commands run in-process.

/** Runs `fn` with console.log collected instead of printed; returns the printed lines joined by newlines. */
export async function captureLog(fn: () => unknown): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await fn();
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}
