// The optimizer resource (Comet's optimizer service): stores sweep state and trials, hands out suggestions from the
// configured algorithm inside a transaction so parallel workers get distinct trials, re-issues released or expired trials
// (leases and Comet's retryAssignLimit / retryLimit: trial-leases.ts).
import { isOcropsError } from '@ocrops/common';
import type { Db } from './db.js';
import { HttpError, notFound } from './http-error.js';
import { newKey } from './store.js';
import {
  canonicalParams,
  expireLeases,
  grantLease,
  leaseOf,
  putBack,
  recordFinalLease,
  renewLease,
  retryAssignLimit,
  retryLimit,
  touchLease,
  type LeaseState,
} from './trial-leases.js';
import type { OptimizerAlgorithm, OptimizerStatus, OptimizerSuggestion, TrialRecord } from '../types.js';

type InternalStatus = TrialRecord['status'] | 'pending';

interface TrialRow {
  optimizer_id: string;
  pid: string;
  trial: number;
  parameters: string;
  status: InternalStatus;
  score: number | null;
  epoch: number | null;
  experiment_key: string | null;
  seq: number;
  created_at: number;
  updated_at: number;
}

interface OptimizerRow {
  id: string;
  workspace: string;
  project_name: string | null;
  name: string | null;
  config: string;
  created_at: number;
  updated_at: number;
}

export interface TrialUpdate {
  id: string;
  pid: string;
  trial?: number;
  status: TrialRecord['status'];
  score?: number | null;
  epoch?: number | null;
  experimentKey?: string | null;
  /** The lease `next` handed out with the trial: final results are then recorded once, stale updates refused. */
  lease?: string;
}

export interface NextOptions {
  /** Heartbeat lease: the trial is assigned again when no heartbeat renews it for this long. */
  leaseMillis?: number;
  /** A name for the worker host (shown nowhere yet; kept with the lease for debugging). */
  worker?: string;
}

const FINAL = new Set<InternalStatus>(['completed', 'failed', 'pruned']);

function trialRecord(r: TrialRow): TrialRecord {
  const t: TrialRecord = {
    pid: r.pid,
    trial: Number(r.trial),
    parameters: JSON.parse(r.parameters),
    // a released trial waits to be re-issued: to the algorithm it is still taken
    status: r.status === 'pending' ? 'running' : r.status,
  };
  if (r.score !== null && r.score !== undefined) t.score = Number(r.score);
  if (r.experiment_key) t.experimentKey = r.experiment_key;
  if (r.epoch !== null && r.epoch !== undefined) t.epoch = Number(r.epoch);
  return t;
}

function leaseFields(l: { lease: string; expiresAt: number | null; assignment: number }) {
  return { lease: l.lease, assignment: l.assignment, ...(l.expiresAt !== null ? { leaseExpiresAt: l.expiresAt } : {}) };
}

export class OptimizerService {
  constructor(
    private readonly db: Db,
    private readonly algorithm: OptimizerAlgorithm | undefined,
    /** A running trial without an update for this long is handed out again (its worker is presumed dead). */
    readonly leaseMillis = 6 * 3600_000,
  ) {}

  private requireAlgorithm(): OptimizerAlgorithm {
    if (!this.algorithm)
      throw new HttpError(
        501,
        'this tracker server was started without an optimizer algorithm; start it with `ocrops tracker serve`',
      );
    return this.algorithm;
  }

  private async row(db: Db, workspace: string, id: string, lock = false): Promise<OptimizerRow> {
    const r = await db.get<OptimizerRow>(`SELECT * FROM optimizers WHERE id = ?${lock ? db.forUpdate : ''}`, [id]);
    if (!r || r.workspace !== workspace) throw notFound(`optimizer ${id} not found`);
    return r;
  }

  async create(
    workspace: string,
    body: { config: Record<string, unknown>; projectName?: string },
  ): Promise<{ id: string }> {
    const alg = this.requireAlgorithm();
    try {
      alg.validate(body.config);
    } catch (err) {
      throw new HttpError(400, `config: ${isOcropsError(err) || err instanceof Error ? err.message : String(err)}`);
    }
    const id = newKey();
    const now = Date.now();
    const name = typeof body.config.name === 'string' ? body.config.name : null;
    await this.db.run(
      'INSERT INTO optimizers (id, workspace, project_name, name, config, created_at, updated_at) VALUES (?,?,?,?,?,?,?)',
      [id, workspace, body.projectName ?? null, name, JSON.stringify(body.config), now, now],
    );
    return { id };
  }

  /** The next suggestion, or null when maxCombo is reached or the algorithm is exhausted. */
  async next(workspace: string, id: string, opts: NextOptions = {}): Promise<OptimizerSuggestion | null> {
    const alg = this.requireAlgorithm();
    return this.db.transaction(async (tx) => {
      const opt = await this.row(tx, workspace, id, true);
      const config = JSON.parse(opt.config) as Record<string, any>;
      const now = Date.now();
      await expireLeases(tx, id, now, this.leaseMillis, retryAssignLimit(config));
      const rows = await tx.all<TrialRow>('SELECT * FROM trials WHERE optimizer_id = ? ORDER BY seq', [id]);
      const count = rows.length;
      const issue = async (r: TrialRow): Promise<OptimizerSuggestion> => {
        await tx.run(
          `UPDATE trials SET status = 'running', updated_at = ? WHERE optimizer_id = ? AND pid = ? AND trial = ?`,
          [now, id, r.pid, r.trial],
        );
        const lease = await grantLease(tx, id, r.pid, Number(r.trial), now, opts.leaseMillis, opts.worker);
        return {
          id,
          pid: r.pid,
          trial: Number(r.trial),
          count,
          parameters: JSON.parse(r.parameters),
          ...leaseFields(lease),
        };
      };
      const pending = rows.find((r) => r.status === 'pending');
      if (pending) return issue(pending);

      const perSet = Number.isInteger(config.trials) && config.trials > 0 ? Number(config.trials) : 1;
      const byPid = new Map<string, TrialRow[]>();
      for (const r of rows) byPid.set(r.pid, [...(byPid.get(r.pid) ?? []), r]);
      const seq = rows.length ? Math.max(...rows.map((r) => Number(r.seq))) + 1 : 1;
      const insert = async (pid: string, trial: number, parameters: Record<string, unknown>) => {
        await tx.run(
          `INSERT INTO trials (optimizer_id, pid, trial, parameters, status, seq, created_at, updated_at)
           VALUES (?,?,?,?,'running',?,?,?)`,
          [id, pid, trial, JSON.stringify(parameters), seq, now, now],
        );
        await tx.run('UPDATE optimizers SET updated_at = ? WHERE id = ?', [now, id]);
        const lease = await grantLease(tx, id, pid, trial, now, opts.leaseMillis, opts.worker);
        return { id, pid, trial, count: count + 1, parameters, ...leaseFields(lease) };
      };
      for (const [pid, list] of byPid) {
        if (list.length < perSet) return insert(pid, list.length + 1, JSON.parse(list[0].parameters));
      }
      const maxCombo = Number(config.spec?.maxCombo ?? 0);
      if (maxCombo > 0 && byPid.size >= maxCombo) return null;
      // Comet's retryLimit: attempts at a parameter set not tried before; a repeat is shown to the algorithm as taken
      const seen = new Set(rows.map((r) => canonicalParams(JSON.parse(r.parameters))));
      const taken = rows.map(trialRecord);
      for (let attempt = 0; attempt <= retryLimit(config); attempt++) {
        let suggestions: Array<Record<string, unknown>>;
        try {
          suggestions = alg.suggest(config, taken, 1);
        } catch (err) {
          throw new HttpError(400, `optimizer ${id}: ${(err as Error).message}`);
        }
        if (!suggestions.length) return null;
        if (!seen.has(canonicalParams(suggestions[0]))) return insert(newKey(), 1, suggestions[0]);
        taken.push({ pid: `repeat-${attempt}`, trial: 1, parameters: suggestions[0], status: 'running' });
      }
      return null;
    });
  }

  async update(workspace: string, u: TrialUpdate): Promise<TrialRecord> {
    return this.db.transaction(async (tx) => {
      await this.row(tx, workspace, u.id);
      const trial =
        u.trial ??
        (
          await tx.get<{ t: number }>('SELECT MAX(trial) AS t FROM trials WHERE optimizer_id = ? AND pid = ?', [
            u.id,
            u.pid,
          ])
        )?.t;
      const r = await tx.get<TrialRow>('SELECT * FROM trials WHERE optimizer_id = ? AND pid = ? AND trial = ?', [
        u.id,
        u.pid,
        trial ?? 1,
      ]);
      if (!r) throw notFound(`trial ${u.pid}/${u.trial ?? 1} not found in optimizer ${u.id}`);
      const now = Date.now();
      const lease = u.lease !== undefined ? await leaseOf(tx, u.id, u.pid, Number(r.trial)) : undefined;
      if (u.lease !== undefined) {
        const shown = `trial ${u.pid}-${r.trial} of optimizer ${u.id}`;
        if (FINAL.has(r.status)) {
          // the same worker repeating its request (a retried POST) gets the recorded trial back
          if (lease?.final_lease === u.lease && r.status === u.status) return trialRecord(r);
          throw new HttpError(409, `${shown} already has its result (${r.status}); this one is not recorded`);
        }
        const holder = (r.status === 'running' || r.status === 'pending') && lease?.lease === u.lease;
        // a late final result of an assignment that was presumed dead is still the trial's result (recorded once);
        // progress or a failure from it would disturb the worker that now runs the trial
        if (!holder && (u.status === 'running' || u.status === 'failed'))
          throw new HttpError(409, `${shown} was assigned again (its lease expired); stop this run`);
        if (holder && u.status === 'running' && lease) await touchLease(tx, lease, now);
        if (u.status === 'completed' || u.status === 'pruned')
          await recordFinalLease(tx, u.id, u.pid, Number(r.trial), u.lease);
      }
      await tx.run(
        `UPDATE trials SET status = ?, score = COALESCE(?, score), epoch = COALESCE(?, epoch),
           experiment_key = COALESCE(?, experiment_key), updated_at = ? WHERE optimizer_id = ? AND pid = ? AND trial = ?`,
        [u.status, u.score ?? null, u.epoch ?? null, u.experimentKey ?? null, now, u.id, u.pid, r.trial],
      );
      if (u.experimentKey)
        await tx.run('UPDATE experiments SET optimization_id = ? WHERE experiment_key = ? AND workspace = ?', [
          u.id,
          u.experimentKey,
          workspace,
        ]);
      await tx.run('UPDATE optimizers SET updated_at = ? WHERE id = ?', [now, u.id]);
      if (u.status === 'failed') {
        // Comet's retryAssignLimit: a trial that did not complete is assigned again while re-assignments remain
        const config = JSON.parse((await this.row(tx, workspace, u.id)).config) as Record<string, any>;
        const reassigns = lease?.reassigns ?? (await leaseOf(tx, u.id, u.pid, Number(r.trial)))?.reassigns ?? 0;
        const to = await putBack(tx, u.id, u.pid, Number(r.trial), reassigns, retryAssignLimit(config), now);
        if (to === 'failed' && u.lease !== undefined) await recordFinalLease(tx, u.id, u.pid, Number(r.trial), u.lease);
      }
      const after = await tx.get<TrialRow>('SELECT * FROM trials WHERE optimizer_id = ? AND pid = ? AND trial = ?', [
        u.id,
        u.pid,
        r.trial,
      ]);
      return trialRecord(after!);
    });
  }

  /** Renews a worker's lease on its trial, or tells it the trial was assigned again or has its result already. */
  async heartbeat(
    workspace: string,
    b: { id: string; pid: string; trial: number; lease: string },
  ): Promise<{ state: LeaseState; leaseExpiresAt?: number }> {
    return this.db.transaction(async (tx) => {
      await this.row(tx, workspace, b.id);
      const r = await tx.get<TrialRow>('SELECT * FROM trials WHERE optimizer_id = ? AND pid = ? AND trial = ?', [
        b.id,
        b.pid,
        b.trial,
      ]);
      if (!r) throw notFound(`trial ${b.pid}/${b.trial} not found in optimizer ${b.id}`);
      return renewLease(tx, b.id, b.pid, b.trial, b.lease, r.status, Date.now(), this.leaseMillis);
    });
  }

  /** Hands a running trial back so the next `next` re-issues it (its worker died or gave up). */
  async release(workspace: string, id: string, pid: string, trial?: number): Promise<{ released: number }> {
    return this.db.transaction(async (tx) => {
      await this.row(tx, workspace, id);
      const n = await tx.run(
        `UPDATE trials SET status = 'pending', updated_at = ? WHERE optimizer_id = ? AND pid = ? AND status = 'running'${
          trial !== undefined ? ' AND trial = ?' : ''
        }`,
        trial !== undefined ? [Date.now(), id, pid, trial] : [Date.now(), id, pid],
      );
      return { released: n };
    });
  }

  async status(workspace: string, id: string): Promise<OptimizerStatus> {
    const opt = await this.row(this.db, workspace, id);
    const rows = await this.db.all<TrialRow>('SELECT * FROM trials WHERE optimizer_id = ? ORDER BY seq, trial', [id]);
    return this.statusOf(opt, rows);
  }

  private statusOf(opt: OptimizerRow, rows: TrialRow[]): OptimizerStatus {
    const config = JSON.parse(opt.config) as Record<string, any>;
    const trials = rows.map((r) => ({
      ...trialRecord(r),
      status: r.status === 'pending' ? ('running' as const) : r.status,
      trialId: `${r.pid}-${r.trial}`,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
    const maximize = String(config.spec?.objective ?? 'minimize') === 'maximize';
    let best: TrialRecord | undefined;
    for (const t of trials) {
      if (t.status !== 'completed' || t.score === undefined) continue;
      if (!best || (maximize ? t.score > best.score! : t.score < best.score!)) best = t;
    }
    const maxCombo = Number(config.spec?.maxCombo ?? 0);
    const pids = new Set(rows.map((r) => r.pid));
    const state =
      maxCombo > 0 && pids.size >= maxCombo && rows.every((r) => FINAL.has(r.status)) ? 'completed' : 'running';
    const out: OptimizerStatus = { id: opt.id, workspaceName: opt.workspace, config, state, trials };
    if (opt.name) out.name = opt.name;
    if (opt.project_name) out.projectName = opt.project_name;
    if (best) {
      const { pid, trial, parameters, status, score, experimentKey, epoch } = best;
      out.best = { pid, trial, parameters, status, score, experimentKey, epoch };
    }
    return out;
  }

  async list(workspace: string, projectName?: string): Promise<OptimizerStatus[]> {
    const opts = await this.db.all<OptimizerRow>(
      projectName
        ? 'SELECT * FROM optimizers WHERE workspace = ? AND project_name = ? ORDER BY created_at'
        : 'SELECT * FROM optimizers WHERE workspace = ? ORDER BY created_at',
      projectName ? [workspace, projectName] : [workspace],
    );
    const out: OptimizerStatus[] = [];
    for (const o of opts) {
      const rows = await this.db.all<TrialRow>('SELECT * FROM trials WHERE optimizer_id = ? ORDER BY seq, trial', [
        o.id,
      ]);
      out.push(this.statusOf(o, rows));
    }
    return out;
  }
}
