// The disk spool: requests that could not be delivered (server unreachable, offline mode) are appended to
// `<spoolDir>/<experimentKey>.jsonl`; `syncSpool` replays them later. Every logged value carries a client id, so a
// replay of something the server already stored is ignored there: each value is stored exactly once.
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { isTransient, sendWithRetry, TrackerHttpError, type RequestSpec } from './http.js';

/** One spooled request; `url` is the server it was meant for. */
export interface SpoolRecord {
  v: 1;
  url: string;
  workspace: string;
  request: RequestSpec;
  /** Spool-owned copy of an upload's file (removed after delivery). */
  ownedFile?: string;
}

export class Spool {
  constructor(readonly dir: string) {}

  fileOf(experimentKey: string): string {
    return join(this.dir, `${experimentKey}.jsonl`);
  }

  /** Appends a record synchronously (survives a crash right after); uploads are copied into the spool first. */
  append(experimentKey: string, rec: Omit<SpoolRecord, 'v'>): void {
    mkdirSync(this.dir, { recursive: true });
    const r: SpoolRecord = { v: 1, ...rec };
    if (r.request.upload && !r.ownedFile) {
      const filesDir = join(this.dir, 'files');
      mkdirSync(filesDir, { recursive: true });
      const copy = join(filesDir, randomUUID());
      copyFileSync(r.request.upload.file, copy);
      r.request = { ...r.request, upload: { ...r.request.upload, file: copy } };
      r.ownedFile = copy;
    }
    appendFileSync(this.fileOf(experimentKey), `${JSON.stringify(r)}\n`);
  }

  has(experimentKey: string): boolean {
    return existsSync(this.fileOf(experimentKey));
  }

  /** Experiment keys with spooled records (including interrupted syncs). */
  keys(): string[] {
    if (!existsSync(this.dir)) return [];
    const keys = new Set<string>();
    for (const f of readdirSync(this.dir)) {
      const m = /^([0-9a-f]{32})\.jsonl/.exec(f);
      if (m) keys.add(m[1]);
    }
    return [...keys].sort();
  }
}

export interface SyncOptions {
  spoolDir: string;
  /** Deliver to this server instead of the one recorded in each record. */
  url?: string;
  apiKey?: string;
  /** Only these experiments. */
  experimentKeys?: string[];
  retries?: number;
  log?: (line: string) => void;
}

export interface SyncReport {
  experiments: number;
  delivered: number;
  /** Records the server rejected as invalid data (400, 413, ...): moved to the dead-letter file, never dropped. */
  rejected: number;
  /** Experiments whose delivery stopped (server unreachable): their records stay in the spool. */
  pending: string[];
  /** Experiments the server refused (401/403/404/409: wrong key, workspace or server): their records stay in the spool. */
  refused: Array<{ experimentKey: string; status: number; message: string }>;
  /** The dead-letter file of each experiment with rejected records. */
  deadLetters: string[];
}

/** Statuses that say "not with this key / workspace / server", not "this value is invalid": the records are kept. */
const REFUSED = new Set([401, 403, 404, 409]);

/** Where records the server rejected as invalid data go: `<spoolDir>/dead-letter/<experimentKey>.jsonl`. */
export function deadLetterFile(spoolDir: string, experimentKey: string): string {
  return join(spoolDir, 'dead-letter', `${experimentKey}.jsonl`);
}

/** A refusal that stops an experiment's delivery and keeps its records. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Delivers spooled records in order. A file is first renamed to a private name so a live client can keep spooling
 * meanwhile; on a transient failure the undelivered rest is appended back. Records the server rejects (4xx) are dropped
 * and counted.
 */
export async function syncSpool(opts: SyncOptions): Promise<SyncReport> {
  const spool = new Spool(opts.spoolDir);
  const report: SyncReport = { experiments: 0, delivered: 0, rejected: 0, pending: [], refused: [], deadLetters: [] };
  const keys = opts.experimentKeys ?? spool.keys();
  for (const key of keys) {
    const files = existsSync(spool.dir) ? readdirSync(spool.dir).filter((f) => f.startsWith(`${key}.jsonl`)) : [];
    if (!files.length) continue;
    report.experiments++;
    // the live file first, then leftovers of interrupted syncs
    files.sort((a, b) => (a === `${key}.jsonl` ? -1 : b === `${key}.jsonl` ? 1 : a.localeCompare(b)));
    const records: SpoolRecord[] = [];
    const claimed: string[] = [];
    for (const f of files) {
      const claim = join(spool.dir, `${key}.jsonl.syncing-${process.pid}-${randomUUID().slice(0, 8)}`);
      try {
        renameSync(join(spool.dir, f), claim);
      } catch {
        continue; // another sync took it
      }
      claimed.push(claim);
      for (const line of readFileSync(claim, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          records.push(JSON.parse(line) as SpoolRecord);
        } catch {
          // a torn last line from a crash while appending: nothing was promised for it
        }
      }
    }
    // creation first: an interrupted earlier sync may have left it in a later file
    records.sort(
      (a, b) =>
        Number(b.request.path.endsWith('/experiment/create')) - Number(a.request.path.endsWith('/experiment/create')),
    );
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const r = records[i];
        try {
          await sendWithRetry({ url: opts.url ?? r.url, apiKey: opts.apiKey }, r.request, opts.retries ?? 3);
          report.delivered++;
        } catch (err) {
          if (isTransient(err)) throw err;
          if (err instanceof TrackerHttpError && REFUSED.has(err.status)) throw new Refused(err.status, err.message);
          report.rejected++;
          const dead = deadLetterFile(spool.dir, key);
          mkdirSync(join(spool.dir, 'dead-letter'), { recursive: true });
          appendFileSync(dead, `${JSON.stringify({ ...r, error: (err as Error).message, rejectedAt: Date.now() })}\n`);
          if (!report.deadLetters.includes(dead)) report.deadLetters.push(dead);
          opts.log?.(
            `spool ${key}: record rejected by the server as invalid, moved to ${dead}: ${(err as Error).message}`,
          );
          continue; // a dead-lettered upload keeps its file
        }
        if (r.ownedFile) rmSync(r.ownedFile, { force: true });
      }
    } catch (err) {
      if (err instanceof Refused) report.refused.push({ experimentKey: key, status: err.status, message: err.message });
      else report.pending.push(key);
      opts.log?.(`spool ${key}: delivery stopped (${(err as Error).message}); ${records.length - i} record(s) kept`);
      mkdirSync(spool.dir, { recursive: true });
      appendFileSync(
        spool.fileOf(key),
        records
          .slice(i)
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
      );
    }
    for (const c of claimed) rmSync(c, { force: true });
  }
  return report;
}

/** Throws a clear error when a spool folder is missing. */
export function requireSpoolDir(dir: string): void {
  if (!existsSync(dir))
    throw new OcropsError('OCROPS_TRACKER_SPOOL', `spool folder ${dir} does not exist: nothing to sync`);
}
