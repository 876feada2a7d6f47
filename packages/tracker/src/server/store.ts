// Domain operations of the tracker on the SQL layer: experiments, metric points + per-series summaries, parameters,
// tags, html, console output, git/system details and asset records. Every write is idempotent given the
// client-generated value ids, so a spool can be delivered twice without duplicates.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, SqlValue } from './db.js';
import { HttpError, notFound } from './http-error.js';
import { downsampleTuples, type SeriesTuple } from './query.js';
import { appendToBlocks, readBlocks, seriesFromColumns, type PackedPoint } from './series-blocks.js';
import type { RunStatus, SeriesPoint, SeriesSummary } from '../types.js';

/** A random 32-hex-character experiment key / id. */
export function newKey(): string {
  return randomBytes(16).toString('hex');
}

export interface ExperimentRow {
  experiment_key: string;
  workspace: string;
  project_id: string;
  project_name: string;
  name: string | null;
  start_time: number | null;
  end_time: number | null;
  heartbeat_at: number | null;
  has_crashed: number;
  error: string | null;
  optimization_id: string | null;
  archived: number;
  created_at: number;
  updated_at: number;
}

export interface MetricInput {
  id?: string;
  name: string;
  value: number | string | null;
  step?: number | null;
  epoch?: number | null;
  timestamp?: number | null;
  context?: string | null;
}

export interface ParamInput {
  name: string;
  value: unknown;
  step?: number | null;
  timestamp?: number | null;
}

export interface OutputLine {
  id?: string;
  output: string;
  stderr?: boolean;
  localTimestamp?: number;
  offset?: number | null;
}

export interface AssetRecord {
  assetId: string;
  fileName: string;
  fileSize: number;
  step: number | null;
  epoch: number | null;
  type: string;
  groupingName: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: number;
  storageKey: string;
}

const EXP_COLS = `e.experiment_key, e.workspace, e.project_id, p.name AS project_name, e.name, e.start_time, e.end_time,
  e.heartbeat_at, e.has_crashed, e.error, e.optimization_id, e.archived, e.created_at, e.updated_at`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Parses a Comet metric value (number or string) into a finite double, or null with the text kept. */
export function parseMetricValue(v: number | string | null): { value: number | null; text: string | null } {
  if (typeof v === 'number') return Number.isFinite(v) ? { value: v, text: null } : { value: null, text: String(v) };
  if (v === null) return { value: null, text: null };
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? { value: n, text: null } : { value: null, text: v };
}

const NEWER = `(excluded.ts_last > series_summary.ts_last OR (excluded.ts_last = series_summary.ts_last AND
  COALESCE(excluded.step_last, -9007199254740991) >= COALESCE(series_summary.step_last, -9007199254740991)))`;
const lower = (c: string) =>
  `${c} = CASE WHEN series_summary.${c} IS NULL OR excluded.${c} < series_summary.${c} THEN excluded.${c} ELSE series_summary.${c} END`;
const higher = (c: string) =>
  `${c} = CASE WHEN series_summary.${c} IS NULL OR excluded.${c} > series_summary.${c} THEN excluded.${c} ELSE series_summary.${c} END`;
const newer = (c: string) => `${c} = CASE WHEN ${NEWER} THEN excluded.${c} ELSE series_summary.${c} END`;

const UPSERT_SUMMARY = `INSERT INTO series_summary (experiment_key, name, count, value_min, value_max, value_last,
  step_min, step_max, step_last, epoch_last, ts_min, ts_max, ts_last) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
  ON CONFLICT (experiment_key, name) DO UPDATE SET count = series_summary.count + excluded.count,
  ${lower('value_min')}, ${higher('value_max')}, ${lower('step_min')}, ${higher('step_max')},
  ${lower('ts_min')}, ${higher('ts_max')}, ${newer('value_last')}, ${newer('step_last')}, ${newer('epoch_last')},
  ${newer('ts_last')}`;

const METRIC_COLS = ['experiment_key', 'value_id', 'name', 'value', 'value_text', 'step', 'epoch', 'ts', 'context'];
const METRIC_PG_TYPES = ['text', 'text', 'text', 'float8', 'text', 'int8', 'int8', 'int8', 'text'];

/** WHERE clause of one series' points with a non-null x column, within [from, to] when given. */
function seriesWhere(
  key: string,
  name: string,
  col: string,
  from?: number,
  to?: number,
): { where: string; params: SqlValue[] } {
  const where = [`experiment_key = ?`, `name = ?`, `${col} IS NOT NULL`];
  const params: SqlValue[] = [key, name];
  if (from !== undefined) {
    where.push(`${col} >= ?`);
    params.push(from);
  }
  if (to !== undefined) {
    where.push(`${col} <= ?`);
    params.push(to);
  }
  return { where: where.join(' AND '), params };
}

export class TrackerStore {
  constructor(
    readonly db: Db,
    /** Heartbeat interval the server asks clients for (ms); a run without a beat for 4 intervals counts as crashed. */
    readonly heartbeatMillis = 10_000,
  ) {}

  // ---- projects and experiments -------------------------------------------------------------------------------

  async project(workspace: string, name: string, description?: string, isPublic?: boolean) {
    const now = Date.now();
    await this.db.run(
      `INSERT INTO projects (project_id, workspace, name, description, is_public, created_at, last_updated)
       VALUES (?,?,?,?,?,?,?) ON CONFLICT (workspace, name) DO NOTHING`,
      [newKey(), workspace, name, description ?? null, isPublic ? 1 : 0, now, now],
    );
    const row = await this.db.get<{ project_id: string }>(
      'SELECT project_id FROM projects WHERE workspace = ? AND name = ?',
      [workspace, name],
    );
    return { projectId: row!.project_id, projectName: name, workspaceName: workspace };
  }

  async projects(workspace: string) {
    const rows = await this.db.all<Record<string, any>>(
      `SELECT p.project_id, p.name, p.description, p.is_public, p.created_at, p.last_updated,
         (SELECT COUNT(*) FROM experiments e WHERE e.project_id = p.project_id) AS n
       FROM projects p WHERE p.workspace = ? ORDER BY p.name`,
      [workspace],
    );
    return rows.map((r) => ({
      projectId: r.project_id,
      projectName: r.name,
      workspaceName: workspace,
      projectDescription: r.description ?? '',
      public: !!r.is_public,
      numberOfExperiments: Number(r.n),
      lastUpdated: Number(r.last_updated),
    }));
  }

  /** Creates an experiment; with a client-chosen `experimentKey` the call is idempotent (spool replays). */
  async createExperiment(workspace: string, projectName: string, name?: string | null, key?: string) {
    const { projectId } = await this.project(workspace, projectName);
    const experimentKey = key ?? newKey();
    const now = Date.now();
    if (key) {
      const existing = await this.db.get<{ workspace: string }>(
        'SELECT workspace FROM experiments WHERE experiment_key = ?',
        [key],
      );
      if (existing && existing.workspace !== workspace) throw new HttpError(409, `experimentKey ${key} is taken`);
    }
    await this.db.run(
      `INSERT INTO experiments (experiment_key, workspace, project_id, name, start_time, heartbeat_at, created_at, updated_at)
       VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (experiment_key) DO NOTHING`,
      [experimentKey, workspace, projectId, name ?? null, now, now, now, now],
    );
    await this.db.run('UPDATE projects SET last_updated = ? WHERE project_id = ?', [now, projectId]);
    return { experimentKey, workspaceName: workspace, projectName, projectId };
  }

  /** The experiment row when it exists in `workspace`; 404 otherwise (another workspace's key sees nothing). */
  async experiment(workspace: string | null, key: string): Promise<ExperimentRow> {
    const row = await this.db.get<ExperimentRow>(
      `SELECT ${EXP_COLS} FROM experiments e JOIN projects p ON p.project_id = e.project_id WHERE e.experiment_key = ?`,
      [key],
    );
    if (!row || (workspace !== null && row.workspace !== workspace)) throw notFound(`experiment ${key} not found`);
    return row;
  }

  async experiments(workspace: string, opts: { projectName?: string; projectId?: string }): Promise<ExperimentRow[]> {
    const where = ['e.workspace = ?'];
    const params: SqlValue[] = [workspace];
    if (opts.projectId) {
      where.push('e.project_id = ?');
      params.push(opts.projectId);
    } else if (opts.projectName) {
      where.push('p.name = ?');
      params.push(opts.projectName);
    }
    return this.db.all<ExperimentRow>(
      `SELECT ${EXP_COLS} FROM experiments e JOIN projects p ON p.project_id = e.project_id
       WHERE ${where.join(' AND ')} ORDER BY e.created_at, e.experiment_key`,
      params,
    );
  }

  /** running / finished / crashed from end time, crash flag and heartbeat age. */
  status(e: ExperimentRow, now = Date.now()): RunStatus {
    if (e.has_crashed) return 'crashed';
    if (e.end_time !== null && e.end_time !== undefined) return 'finished';
    const beat = Number(e.heartbeat_at ?? e.updated_at);
    return now - beat > 4 * this.heartbeatMillis ? 'crashed' : 'running';
  }

  /** Comet's experiment JSON. */
  experimentJson(e: ExperimentRow) {
    const start = num(e.start_time);
    const end = num(e.end_time);
    const status = this.status(e);
    const last = end ?? (status === 'running' ? Date.now() : num(e.heartbeat_at));
    return {
      experimentKey: e.experiment_key,
      experimentName: e.name,
      optimizationId: e.optimization_id,
      projectId: e.project_id,
      projectName: e.project_name,
      workspaceName: e.workspace,
      durationMillis: start !== null && last !== null ? last - start : null,
      startTimeMillis: start,
      endTimeMillis: end,
      archived: !!e.archived,
      running: status === 'running',
      hasCrashed: status === 'crashed',
      error: e.error,
    };
  }

  async heartbeat(key: string): Promise<void> {
    const now = Date.now();
    await this.db.run('UPDATE experiments SET heartbeat_at = ?, updated_at = ? WHERE experiment_key = ?', [
      now,
      now,
      key,
    ]);
  }

  async setStartEnd(key: string, start?: number, end?: number): Promise<void> {
    const now = Date.now();
    if (start !== undefined)
      await this.db.run('UPDATE experiments SET start_time = ? WHERE experiment_key = ?', [start, key]);
    if (end !== undefined)
      await this.db.run('UPDATE experiments SET end_time = ? WHERE experiment_key = ?', [end, key]);
    await this.db.run('UPDATE experiments SET updated_at = ? WHERE experiment_key = ?', [now, key]);
  }

  async updateStatus(
    key: string,
    s: { isAlive?: boolean; error?: string | null; hasCrashed?: boolean },
  ): Promise<void> {
    const now = Date.now();
    if (s.hasCrashed !== undefined)
      await this.db.run('UPDATE experiments SET has_crashed = ? WHERE experiment_key = ?', [s.hasCrashed ? 1 : 0, key]);
    if (s.error) await this.db.run('UPDATE experiments SET error = ? WHERE experiment_key = ?', [s.error, key]);
    // alive again (a resumed run): not ended, not crashed
    if (s.isAlive && !s.hasCrashed)
      await this.db.run(
        'UPDATE experiments SET heartbeat_at = ?, end_time = NULL, has_crashed = 0 WHERE experiment_key = ?',
        [now, key],
      );
    if (s.isAlive === false || s.hasCrashed)
      await this.db.run('UPDATE experiments SET end_time = COALESCE(end_time, ?) WHERE experiment_key = ?', [now, key]);
    await this.db.run('UPDATE experiments SET updated_at = ? WHERE experiment_key = ?', [now, key]);
  }

  async setOptimizationId(key: string, id: string): Promise<void> {
    await this.db.run('UPDATE experiments SET optimization_id = ? WHERE experiment_key = ?', [id, key]);
  }

  // ---- metrics --------------------------------------------------------------------------------------------------

  /** Stores metric points (deduplicated by id) and folds the new ones into the per-series summaries; returns how many were new. */
  async addMetrics(key: string, points: MetricInput[]): Promise<number> {
    if (points.length === 0) return 0;
    const now = Date.now();
    const rows = points.map((p) => {
      const { value, text } = parseMetricValue(p.value);
      return [
        key,
        p.id ?? randomUUID(),
        p.name,
        value,
        text,
        p.step ?? null,
        p.epoch ?? null,
        p.timestamp ?? now,
        p.context ?? null,
      ];
    });
    return this.db.transaction(async (tx) => {
      // one writer per run at a time: ids and series blocks get the same order (PostgreSQL; SQLite writes are exclusive)
      await tx.lockUntilCommit(`metrics:${key}`);
      const fresh = await tx.insertIgnore(
        'metrics',
        METRIC_COLS,
        ['experiment_key', 'value_id'],
        rows as SqlValue[][],
        METRIC_PG_TYPES,
      );
      const agg = new Map<string, SqlValue[]>();
      const packed = new Map<string, PackedPoint[]>();
      const inserted = fresh.length;
      fresh.forEach((i) => {
        const [, , name, value, , step, epoch, ts] = rows[i] as [
          string,
          string,
          string,
          number | null,
          unknown,
          number | null,
          number | null,
          number,
        ];
        const list = packed.get(name);
        if (list) list.push({ step, epoch, timestamp: ts, value });
        else packed.set(name, [{ step, epoch, timestamp: ts, value }]);
        const a = agg.get(name);
        if (!a) {
          agg.set(name, [key, name, 1, value, value, value, step, step, step, epoch, ts, ts, ts]);
          return;
        }
        a[2] = (a[2] as number) + 1;
        if (value !== null && (a[3] === null || value < (a[3] as number))) a[3] = value;
        if (value !== null && (a[4] === null || value > (a[4] as number))) a[4] = value;
        if (step !== null && (a[6] === null || step < (a[6] as number))) a[6] = step;
        if (step !== null && (a[7] === null || step > (a[7] as number))) a[7] = step;
        if (ts < (a[10] as number)) a[10] = ts;
        if (ts > (a[11] as number)) a[11] = ts;
        const lastTs = a[12] as number;
        if (ts > lastTs || (ts === lastTs && (step ?? -Infinity) >= ((a[8] as number | null) ?? -Infinity))) {
          a[5] = value;
          a[8] = step;
          a[9] = epoch;
          a[12] = ts;
        }
      });
      if (packed.size) {
        const names = [...packed.keys()];
        const before = new Map<string, number>();
        for (let i = 0; i < names.length; i += 500) {
          const chunk = names.slice(i, i + 500);
          const counts = await tx.all<{ name: string; count: number }>(
            `SELECT name, count FROM series_summary WHERE experiment_key = ? AND name IN (${chunk.map(() => '?').join(',')})`,
            [key, ...chunk],
          );
          for (const c of counts) before.set(c.name, Number(c.count));
        }
        for (const [name, points] of packed) await appendToBlocks(tx, key, name, points, before.get(name) ?? 0);
      }
      if (agg.size) await tx.runMany(UPSERT_SUMMARY, [...agg.values()]);
      if (inserted) await tx.run('UPDATE experiments SET updated_at = ? WHERE experiment_key = ?', [now, key]);
      return inserted;
    });
  }

  async summaries(keys: string[]): Promise<Map<string, Record<string, SeriesSummary>>> {
    const out = new Map<string, Record<string, SeriesSummary>>();
    if (keys.length === 0) return out;
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = await this.db.all<Record<string, any>>(
        `SELECT * FROM series_summary WHERE experiment_key IN (${chunk.map(() => '?').join(',')})`,
        chunk,
      );
      for (const r of rows) {
        let m = out.get(r.experiment_key);
        if (!m) out.set(r.experiment_key, (m = {}));
        m[r.name] = {
          last: num(r.value_last),
          min: num(r.value_min),
          max: num(r.value_max),
          step: num(r.step_last),
          epoch: num(r.epoch_last),
          count: Number(r.count),
          lastTimestamp: Number(r.ts_last),
        };
      }
    }
    return out;
  }

  /** Comet's `/experiment/metrics/summary` values. */
  async metricsSummary(key: string) {
    const rows = await this.db.all<Record<string, any>>(
      'SELECT * FROM series_summary WHERE experiment_key = ? ORDER BY name',
      [key],
    );
    return rows.map((r) => ({
      name: r.name,
      valueMin: num(r.value_min),
      valueMax: num(r.value_max),
      valueCurrent: num(r.value_last),
      stepMin: num(r.step_min),
      stepMax: num(r.step_max),
      stepCurrent: num(r.step_last),
      epochCurrent: num(r.epoch_last),
      timestampMin: Number(r.ts_min),
      timestampMax: Number(r.ts_max),
      timestampCurrent: Number(r.ts_last),
      count: Number(r.count),
    }));
  }

  /** All points of one series ordered by step, timestamp (Comet's get-metric). */
  async metricPoints(key: string, name: string) {
    const rows = await this.db.all<Record<string, any>>(
      `SELECT value, value_text, step, epoch, ts, context FROM metrics WHERE experiment_key = ? AND name = ?
       ORDER BY step, ts, id`,
      [key, name],
    );
    return rows.map((r) => ({
      metricName: name,
      metricValue: r.value === null ? r.value_text : Number(r.value),
      step: num(r.step),
      epoch: num(r.epoch),
      timestamp: Number(r.ts),
      runContext: r.context,
    }));
  }

  /**
   * One series as served by `/api/ocrops/series`: at most `n` points (see {@link downsampleTuples}). Read from the
   * series' packed blocks (a few blobs, see series-blocks.ts), except a step range (a zoom seeks the covering index
   * to just that range) and series whose blocks are incomplete; the covering index rows come in (x, ts, id) order as
   * plain arrays. Both paths give the same answer.
   */
  async series(
    key: string,
    name: string,
    x: 'step' | 'epoch' | 'timestamp',
    n: number,
    from?: number,
    to?: number,
  ): Promise<{ total: number; downsampled: boolean; points: SeriesPoint[] }> {
    if (x !== 'step' || (from === undefined && to === undefined)) {
      const cols = await readBlocks(this.db, key, name);
      if (cols) return seriesFromColumns(cols, x, n, from, to);
    }
    const col = x === 'timestamp' ? 'ts' : x;
    const { where, params } = seriesWhere(key, name, col, from, to);
    const rows = await this.db.allTuples(
      `SELECT ${col}, step, epoch, ts, value FROM metrics WHERE ${where} ORDER BY ${col}, ts, id`,
      params,
    );
    return { total: rows.length, ...downsampleTuples(rows as SeriesTuple[], n) };
  }

  /** Raw points for downsampling: x column chosen by the caller, within [from, to] when given. */
  async seriesRows(key: string, name: string, x: 'step' | 'epoch' | 'timestamp', from?: number, to?: number) {
    const col = x === 'timestamp' ? 'ts' : x;
    const { where, params } = seriesWhere(key, name, col, from, to);
    const rows = await this.db.all<Record<string, any>>(
      `SELECT value, step, epoch, ts FROM metrics WHERE ${where} ORDER BY ${col}, ts, id`,
      params,
    );
    return rows.map((r) => ({
      x: Number(r[col]),
      step: num(r.step),
      epoch: num(r.epoch),
      timestamp: Number(r.ts),
      value: num(r.value),
    }));
  }

  // ---- parameters and other values --------------------------------------------------------------------------

  /** Upserts parameters (`kind` 'parameter') or log-other values (`kind` 'other'); an older timestamp never overwrites a newer one. */
  async setParams(key: string, kind: 'parameter' | 'other', items: ParamInput[]): Promise<void> {
    const now = Date.now();
    await this.db.transaction((tx) =>
      tx.runMany(
        `INSERT INTO params (experiment_key, kind, name, value, value_json, step, ts) VALUES (?,?,?,?,?,?,?)
         ON CONFLICT (experiment_key, kind, name) DO UPDATE SET value = excluded.value, value_json = excluded.value_json,
         step = excluded.step, ts = excluded.ts WHERE excluded.ts >= params.ts`,
        items.map((p) => [
          key,
          kind,
          p.name,
          typeof p.value === 'string' ? p.value : JSON.stringify(p.value ?? null),
          JSON.stringify(p.value ?? null),
          p.step ?? null,
          p.timestamp ?? now,
        ]),
      ),
    );
  }

  async params(key: string, kind: 'parameter' | 'other') {
    const rows = await this.db.all<Record<string, any>>(
      'SELECT name, value, value_json, step, ts FROM params WHERE experiment_key = ? AND kind = ? ORDER BY name',
      [key, kind],
    );
    return rows.map((r) => ({
      name: r.name as string,
      valueCurrent: r.value as string,
      valueMin: r.value as string,
      valueMax: r.value as string,
      value: JSON.parse(r.value_json) as unknown,
      stepCurrent: num(r.step),
      timestampCurrent: Number(r.ts),
      timestampMax: Number(r.ts),
    }));
  }

  /** Typed parameter values of many experiments (for the runs table). */
  async paramValues(keys: string[], kind: 'parameter' | 'other'): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      if (!chunk.length) break;
      const rows = await this.db.all<Record<string, any>>(
        `SELECT experiment_key, name, value_json FROM params WHERE kind = ? AND experiment_key IN (${chunk.map(() => '?').join(',')})`,
        [kind, ...chunk],
      );
      for (const r of rows) {
        let m = out.get(r.experiment_key);
        if (!m) out.set(r.experiment_key, (m = {}));
        m[r.name] = JSON.parse(r.value_json);
      }
    }
    return out;
  }

  // ---- tags, html, output, details --------------------------------------------------------------------------

  async addTags(key: string, tags: string[]): Promise<void> {
    await this.db.transaction((tx) =>
      tx.runMany(
        'INSERT INTO tags (experiment_key, tag) VALUES (?, ?) ON CONFLICT (experiment_key, tag) DO NOTHING',
        tags.map((t) => [key, t]),
      ),
    );
  }

  async tags(keys: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      if (!chunk.length) break;
      const rows = await this.db.all<{ experiment_key: string; tag: string }>(
        `SELECT experiment_key, tag FROM tags WHERE experiment_key IN (${chunk.map(() => '?').join(',')}) ORDER BY tag`,
        chunk,
      );
      for (const r of rows) out.set(r.experiment_key, [...(out.get(r.experiment_key) ?? []), r.tag]);
    }
    return out;
  }

  async addHtml(key: string, html: string, override: boolean, id?: string, ts?: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (override) await tx.run('DELETE FROM html WHERE experiment_key = ?', [key]);
      await tx.run(
        'INSERT INTO html (experiment_key, value_id, html, ts) VALUES (?,?,?,?) ON CONFLICT (experiment_key, value_id) DO NOTHING',
        [key, id ?? randomUUID(), html, ts ?? Date.now()],
      );
    });
  }

  async html(key: string): Promise<string> {
    const rows = await this.db.all<{ html: string }>(
      'SELECT html FROM html WHERE experiment_key = ? ORDER BY ts, value_id',
      [key],
    );
    return rows.map((r) => r.html).join('');
  }

  async addOutput(key: string, lines: OutputLine[], context?: string | null): Promise<void> {
    const now = Date.now();
    await this.db.transaction((tx) =>
      tx.runMany(
        `INSERT INTO output (experiment_key, value_id, line, stderr, ts, line_offset, context) VALUES (?,?,?,?,?,?,?)
         ON CONFLICT (experiment_key, value_id) DO NOTHING`,
        lines.map((l) => [
          key,
          l.id ?? randomUUID(),
          l.output,
          l.stderr ? 1 : 0,
          l.localTimestamp ?? now,
          l.offset ?? null,
          context ?? null,
        ]),
      ),
    );
  }

  async output(key: string) {
    const rows = await this.db.all<Record<string, any>>(
      'SELECT line, stderr, ts, line_offset FROM output WHERE experiment_key = ? ORDER BY ts, line_offset, value_id',
      [key],
    );
    return rows.map((r) => ({
      output: r.line as string,
      stderr: !!r.stderr,
      localTimestamp: Number(r.ts),
      offset: num(r.line_offset),
    }));
  }

  /** Merges a partial git/system details object into the stored one. */
  async mergeDetails(key: string, kind: 'git' | 'system', data: Record<string, unknown>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await tx.get<{ data: string }>(
        `SELECT data FROM details WHERE experiment_key = ? AND kind = ?${tx.forUpdate}`,
        [key, kind],
      );
      const merged = { ...(row ? JSON.parse(row.data) : {}), ...data };
      delete merged.experimentKey;
      delete merged.apiKey;
      await tx.run(
        `INSERT INTO details (experiment_key, kind, data) VALUES (?,?,?)
         ON CONFLICT (experiment_key, kind) DO UPDATE SET data = excluded.data`,
        [key, kind, JSON.stringify(merged)],
      );
    });
  }

  async details(key: string, kind: 'git' | 'system'): Promise<Record<string, unknown>> {
    const row = await this.db.get<{ data: string }>('SELECT data FROM details WHERE experiment_key = ? AND kind = ?', [
      key,
      kind,
    ]);
    return row ? JSON.parse(row.data) : {};
  }

  // ---- assets -----------------------------------------------------------------------------------------------

  /** The asset already stored under this client id (an upload replayed from a spool), if any. */
  async assetByClientId(key: string, clientId: string): Promise<AssetRecord | undefined> {
    const r = await this.db.get<Record<string, any>>(
      'SELECT * FROM assets WHERE experiment_key = ? AND client_id = ?',
      [key, clientId],
    );
    return r ? assetJson(r) : undefined;
  }

  /** Records an uploaded asset; resolves to false when the client id was already recorded (duplicate upload). */
  async addAsset(key: string, clientId: string, a: AssetRecord, overwrite: boolean): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (overwrite)
        await tx.run('DELETE FROM assets WHERE experiment_key = ? AND file_name = ? AND type = ?', [
          key,
          a.fileName,
          a.type,
        ]);
      const n = await tx.run(
        `INSERT INTO assets (asset_id, experiment_key, client_id, file_name, file_size, type, step, epoch, grouping_name,
           metadata, storage_key, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (experiment_key, client_id) DO NOTHING`,
        [
          a.assetId,
          key,
          clientId,
          a.fileName,
          a.fileSize,
          a.type,
          a.step,
          a.epoch,
          a.groupingName,
          a.metadata ? JSON.stringify(a.metadata) : null,
          a.storageKey,
          a.createdAt,
        ],
      );
      return n > 0;
    });
  }

  async assets(key: string, type?: string): Promise<AssetRecord[]> {
    const rows = await this.db.all<Record<string, any>>(
      type && type !== 'all'
        ? 'SELECT * FROM assets WHERE experiment_key = ? AND type = ? ORDER BY created_at, file_name'
        : 'SELECT * FROM assets WHERE experiment_key = ? ORDER BY created_at, file_name',
      type && type !== 'all' ? [key, type] : [key],
    );
    return rows.map(assetJson);
  }

  async asset(key: string, assetId: string): Promise<AssetRecord> {
    const r = await this.db.get<Record<string, any>>('SELECT * FROM assets WHERE experiment_key = ? AND asset_id = ?', [
      key,
      assetId,
    ]);
    if (!r) throw notFound(`asset ${assetId} not found in experiment ${key}`);
    return assetJson(r);
  }
}

function assetJson(r: Record<string, any>): AssetRecord {
  return {
    assetId: r.asset_id,
    fileName: r.file_name,
    fileSize: Number(r.file_size),
    step: num(r.step),
    epoch: num(r.epoch),
    type: r.type,
    groupingName: r.grouping_name,
    metadata: r.metadata ? JSON.parse(r.metadata) : null,
    createdAt: Number(r.created_at),
    storageKey: r.storage_key,
  };
}
