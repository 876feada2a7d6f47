// Runs the DVC command line (from the project's .venv) through execa, turning failures into OcropsErrors that quote DVC.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { OcropsError, venvBin } from '@ocrops/common';

export interface DvcOptions {
  /** Working directory (a DVC repository or below one); default: the current directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill DVC after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Print DVC's output live (stdout/stderr inherited) instead of capturing it. */
  stream?: boolean;
}

/** The environment DVC runs with: S3 checksums only when required (SeaweedFS), no analytics or update checks. */
export function dvcEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    DVC_NO_ANALYTICS: '1',
    DVC_STUDIO_OFFLINE: '1',
    DVC_IGNORE_ISATTY: '1',
    ...extra,
  };
}

/** Path of the `dvc` executable: `$OCROPS_DVC`, else the project's `.venv/bin/dvc`. */
export function dvcBin(): string {
  return process.env.OCROPS_DVC ?? venvBin('dvc');
}

/** The lines of DVC's output that explain a failure (its `ERROR:` lines, else the last lines). */
export function dvcErrorText(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0);
  const errIdx = lines.findIndex((l) => l.startsWith('ERROR'));
  const picked = errIdx >= 0 ? lines.slice(errIdx, errIdx + 12) : lines.slice(-12);
  return picked.join('\n') || '(DVC printed nothing)';
}

/**
 * Runs `dvc <args>`; resolves with its stdout. A non-zero exit becomes `OCROPS_DVC_FAILED` quoting DVC's error lines.
 */
export async function dvc(args: string[], opts: DvcOptions = {}): Promise<{ stdout: string }> {
  const bin = dvcBin();
  if (!existsSync(bin)) {
    throw new OcropsError('OCROPS_DVC_MISSING', `DVC is not installed (${bin} not found)`, {
      hint: 'run scripts/setup (it installs dvc[s3] into .venv), or set OCROPS_DVC to a dvc executable',
    });
  }
  const cwd = opts.cwd ?? process.cwd();
  const res = await execa(bin, args, {
    cwd,
    env: dvcEnv(opts.env),
    reject: false,
    all: !opts.stream,
    stdin: 'ignore',
    stdout: opts.stream ? 'inherit' : 'pipe',
    stderr: opts.stream ? 'inherit' : 'pipe',
    timeout: opts.timeoutMs,
    forceKillAfterDelay: 5000,
  });
  if (res.failed) {
    const why = res.timedOut
      ? `timed out after ${opts.timeoutMs} ms`
      : res.exitCode !== undefined
        ? `exit code ${res.exitCode}`
        : (res.signal ?? res.shortMessage);
    const said = opts.stream ? '(output above)' : dvcErrorText(String(res.all ?? ''));
    throw new OcropsError(
      'OCROPS_DVC_FAILED',
      `\`dvc ${args.join(' ')}\` failed in ${cwd} (${why}). DVC said:\n${said}`,
      {
        hint: hintFor(said),
      },
    );
  }
  return { stdout: String(res.stdout ?? '') };
}

function hintFor(said: string): string | undefined {
  if (/Could not connect|Connection refused|EndpointConnectionError|connect timeout/i.test(said)) {
    return 'the S3 remote is unreachable: start the local SeaweedFS with `ocrops services start`, then retry';
  }
  if (/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|credentials/i.test(said)) {
    return 'check the remote credentials in .dvc/config.local (scripts/setup writes the local SeaweedFS ones)';
  }
  if (/not a git repository|not inside of a DVC repository/i.test(said)) {
    return 'run the command inside the ocrops repository (git + `dvc init` done)';
  }
  if (/missing cache files|is missing from the cache|failed to pull|not in cache/i.test(said)) {
    return 'the data is not in the remote yet: run `dvc push` where it was produced';
  }
  return undefined;
}
