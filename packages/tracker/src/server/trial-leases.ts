// Leases on sweep trials: a trial handed to a worker is leased to it (a random token, an expiry renewed by heartbeats).
// A trial whose lease expires (its host died, its network was cut) is assigned again up to the sweep's
// `spec.retryAssignLimit` times (Comet: "limit to re-assign non-completed experiments"), as is a trial reported failed;
// beyond that it stays failed. The first final result of a trial is recorded; a later one from another lease
// (a worker that was presumed dead) is refused, so a trial is never counted twice. All functions run inside the
// optimizer's transaction.
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export interface LeaseRow {
  optimizer_id: string;
  pid: string;
  trial: number;
  lease: string;
  worker: string | null;
  /** Epoch ms; null = the server-wide lease since the last update (clients that send no heartbeats). */
  expires_at: number | null;
  /** Length of the heartbeat lease the worker asked for (ms). */
  lease_millis: number | null;
  /** Times the trial was put back to be assigned again after an expired lease or a failure. */
  reassigns: number;
  /** The lease whose worker reported the final result. */
  final_lease: string | null;
}

/** What a heartbeat learns about its trial. */
export type LeaseState = 'leased' | 'reassigned' | 'completed' | 'failed' | 'pruned';

/** `spec.retryAssignLimit` of a stored sweep config (Comet's default 0). */
export function retryAssignLimit(config: Record<string, any>): number {
  const n = Number(config.spec?.retryAssignLimit ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** `spec.retryLimit` of a stored sweep config (Comet's default 20): attempts at a parameter set not tried before. */
export function retryLimit(config: Record<string, any>): number {
  const n = Number(config.spec?.retryLimit ?? 20);
  return Number.isInteger(n) && n >= 0 ? n : 20;
}

export async function leaseOf(tx: Db, id: string, pid: string, trial: number): Promise<LeaseRow | undefined> {
  const r = await tx.get<LeaseRow>('SELECT * FROM trial_leases WHERE optimizer_id = ? AND pid = ? AND trial = ?', [
    id,
    pid,
    trial,
  ]);
  if (!r) return undefined;
  const num = (v: number | null) => (v === null || v === undefined ? null : Number(v));
  return {
    ...r,
    trial: Number(r.trial),
    reassigns: Number(r.reassigns),
    expires_at: num(r.expires_at),
    lease_millis: num(r.lease_millis),
  };
}

/**
 * Running trials of sweep `id` whose lease ran out: back to `pending` (assigned again) while re-assignments remain,
 * else `failed`. A trial without a heartbeat lease expires `legacyMillis` after its last update.
 */
export async function expireLeases(
  tx: Db,
  id: string,
  now: number,
  legacyMillis: number,
  limit: number,
): Promise<void> {
  const rows = await tx.all<{
    pid: string;
    trial: number;
    updated_at: number;
    expires_at: number | null;
    reassigns: number | null;
  }>(
    `SELECT t.pid, t.trial, t.updated_at, l.expires_at, l.reassigns FROM trials t LEFT JOIN trial_leases l
       ON l.optimizer_id = t.optimizer_id AND l.pid = t.pid AND l.trial = t.trial
     WHERE t.optimizer_id = ? AND t.status = 'running'`,
    [id],
  );
  for (const r of rows) {
    const expiry =
      r.expires_at !== null && r.expires_at !== undefined ? Number(r.expires_at) : Number(r.updated_at) + legacyMillis;
    if (expiry >= now) continue;
    await putBack(tx, id, r.pid, Number(r.trial), Number(r.reassigns ?? 0), limit, now);
  }
}

/** A trial that did not complete: `pending` again while `reassigns < limit` (counting this one), else `failed`. */
export async function putBack(
  tx: Db,
  id: string,
  pid: string,
  trial: number,
  reassigns: number,
  limit: number,
  now: number,
): Promise<'pending' | 'failed'> {
  const again = reassigns < limit;
  await tx.run(`UPDATE trials SET status = ?, updated_at = ? WHERE optimizer_id = ? AND pid = ? AND trial = ?`, [
    again ? 'pending' : 'failed',
    now,
    id,
    pid,
    trial,
  ]);
  if (again) {
    await tx.run(
      `INSERT INTO trial_leases (optimizer_id, pid, trial, lease, reassigns) VALUES (?,?,?,'',1)
       ON CONFLICT (optimizer_id, pid, trial) DO UPDATE SET reassigns = trial_leases.reassigns + 1`,
      [id, pid, trial],
    );
  }
  return again ? 'pending' : 'failed';
}

/** A new lease on a trial just handed out; `millis` undefined = no heartbeat expiry (the legacy update-based one). */
export async function grantLease(
  tx: Db,
  id: string,
  pid: string,
  trial: number,
  now: number,
  millis?: number,
  worker?: string,
) {
  const lease = randomBytes(16).toString('hex');
  const expiresAt = millis !== undefined ? now + millis : null;
  await tx.run(
    `INSERT INTO trial_leases (optimizer_id, pid, trial, lease, worker, expires_at, lease_millis) VALUES (?,?,?,?,?,?,?)
     ON CONFLICT (optimizer_id, pid, trial) DO UPDATE SET lease = excluded.lease, worker = excluded.worker,
       expires_at = excluded.expires_at, lease_millis = excluded.lease_millis`,
    [id, pid, trial, lease, worker ?? null, expiresAt, millis ?? null],
  );
  const row = await leaseOf(tx, id, pid, trial);
  return { lease, expiresAt, assignment: (row?.reassigns ?? 0) + 1 };
}

/**
 * Renews `lease` on its trial for the lease length it was granted with (else `fallbackMillis`) when it still holds it;
 * says what became of the trial otherwise.
 */
export async function renewLease(
  tx: Db,
  id: string,
  pid: string,
  trial: number,
  lease: string,
  status: string,
  now: number,
  fallbackMillis: number,
): Promise<{ state: LeaseState; leaseExpiresAt?: number }> {
  if (status === 'completed' || status === 'failed' || status === 'pruned') return { state: status };
  const row = await leaseOf(tx, id, pid, trial);
  if ((status !== 'running' && status !== 'pending') || !row || row.lease !== lease) return { state: 'reassigned' };
  // back before anyone took the trial over (its lease had run out): it is this worker's again
  if (status === 'pending') {
    await tx.run(
      `UPDATE trials SET status = 'running', updated_at = ? WHERE optimizer_id = ? AND pid = ? AND trial = ?`,
      [now, id, pid, trial],
    );
  }
  const until = now + (row.lease_millis ?? fallbackMillis);
  await tx.run('UPDATE trial_leases SET expires_at = ? WHERE optimizer_id = ? AND pid = ? AND trial = ?', [
    until,
    id,
    pid,
    trial,
  ]);
  return { state: 'leased', leaseExpiresAt: until };
}

/** Stretches a heartbeat lease by its length from now (a running update from its holder counts as a heartbeat). */
export async function touchLease(tx: Db, row: LeaseRow, now: number): Promise<void> {
  if (row.expires_at === null || row.lease_millis === null) return;
  const until = now + row.lease_millis;
  await tx.run(
    'UPDATE trial_leases SET expires_at = ? WHERE optimizer_id = ? AND pid = ? AND trial = ? AND expires_at < ?',
    [until, row.optimizer_id, row.pid, row.trial, until],
  );
}

export async function recordFinalLease(tx: Db, id: string, pid: string, trial: number, lease: string): Promise<void> {
  await tx.run('UPDATE trial_leases SET final_lease = ? WHERE optimizer_id = ? AND pid = ? AND trial = ?', [
    lease,
    id,
    pid,
    trial,
  ]);
}

/** Parameter sets compared independently of key order. */
export function canonicalParams(p: unknown): string {
  const walk = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((k) => [k, walk((v as Record<string, unknown>)[k])]),
        )
      : v;
  return JSON.stringify(walk(p));
}
