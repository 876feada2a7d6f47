// The quickstart's closing summary: the tracked runs (best first) from the tracker server's dashboard API.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface RunRow {
  experimentName?: string;
  experimentKey: string;
  status?: string;
  tags?: string[];
  durationMillis?: number;
  params?: Record<string, unknown>;
  metrics?: Record<string, { last?: number; min?: number; max?: number }>;
}

function fmt(v: number | undefined): string {
  return v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toPrecision(4);
}

/**
 * A text table of the project's runs sorted by the smallest `val_loss`, read from `GET /api/ocrops/runs`.
 * `dataDir` holds the tracker's `default-key`. Returns a note instead of throwing when the server cannot answer.
 */
export async function runsSummary(opts: {
  url: string;
  dataDir: string;
  project?: string;
  workspace?: string;
  limit?: number;
}): Promise<string> {
  const keyFile = join(opts.dataDir, 'default-key');
  const key = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : (process.env.COMET_API_KEY ?? '');
  const q = new URLSearchParams({
    workspaceName: opts.workspace ?? 'default',
    projectName: opts.project ?? 'ocr',
    sort: 'metrics.val_loss.min',
    order: 'asc',
    limit: String(opts.limit ?? 10),
  });
  let body: { total?: number; runs?: RunRow[] };
  try {
    const res = await fetch(`${opts.url}/api/ocrops/runs?${q}`, {
      headers: { Authorization: key },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return `(runs summary unavailable: ${res.status} ${res.statusText} from ${opts.url})`;
    body = (await res.json()) as typeof body;
  } catch (err) {
    return `(runs summary unavailable: ${(err as Error).message})`;
  }
  const runs = body.runs ?? [];
  if (runs.length === 0) return `no tracked runs in project ${opts.project ?? 'ocr'} yet`;
  const rows = runs.map((r) => [
    r.experimentName ?? r.experimentKey.slice(0, 8),
    // a sweep trial stopped early by its pruner ends cleanly but is tagged
    r.tags?.includes('pruned') && r.status === 'finished' ? 'pruned' : (r.status ?? ''),
    fmt(r.metrics?.val_loss?.min),
    fmt(r.metrics?.val_acc_by_char?.max),
    fmt(r.metrics?.val_acc_by_field?.max),
    r.durationMillis ? `${Math.round(r.durationMillis / 1000)}s` : '-',
    Object.entries(r.params ?? {})
      .filter(([k]) => ['inner_dim', 'lr', 'hidden', 'epochs'].includes(k))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' '),
  ]);
  const head = ['run', 'status', 'val_loss(min)', 'acc_by_char', 'acc_by_field', 'time', 'params'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    `${body.total ?? runs.length} tracked run(s) in project ${opts.project ?? 'ocr'}, best val_loss first:`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}
