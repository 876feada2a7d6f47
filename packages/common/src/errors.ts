/**
 * The one error class of ocrops. Every expected failure (bad input, unreachable server, missing file) is an
 * `OcropsError` with a stable `code` and a message that says what was wrong, where, and what to do.
 */
export class OcropsError extends Error {
  /** Stable machine-readable code, e.g. `OCROPS_CONFIG_INVALID`. */
  readonly code: string;
  /** Optional hint on what to do next, printed by the CLI after the message. */
  readonly hint?: string;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OcropsError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isOcropsError(err: unknown): err is OcropsError {
  return err instanceof OcropsError;
}

/** Formats any thrown value for a terminal: code, message and hint for ours, message (and stack with DEBUG) for others. */
export function formatError(err: unknown): string {
  if (isOcropsError(err)) {
    return `error [${err.code}]: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`;
  }
  if (err instanceof Error) {
    return process.env.DEBUG ? `error: ${err.stack ?? err.message}` : `error: ${err.message}`;
  }
  return `error: ${String(err)}`;
}
