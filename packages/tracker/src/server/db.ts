// A minimal SQL layer over SQLite (better-sqlite3, WAL) and PostgreSQL (pg) so the store runs one schema on both.
// SQL is written with `?` placeholders; the PostgreSQL driver rewrites them to `$n`.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { OcropsError } from '@ocrops/common';

export type SqlValue = string | number | bigint | Uint8Array | null;

/** The operations the store needs; every method is async so SQLite and PostgreSQL share one store. */
export interface Db {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  /** Rows as arrays of column values in SELECT order (no per-row objects: for reads of many rows). */
  allTuples(sql: string, params?: SqlValue[]): Promise<unknown[][]>;
  /** Runs a statement; resolves to the number of changed rows. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /** Runs one statement once per row of parameters (inside the caller's transaction); resolves to changes per row. */
  runMany(sql: string, rows: SqlValue[][]): Promise<number[]>;
  /**
   * `INSERT ... ON CONFLICT DO NOTHING` of many rows; resolves to the indexes of the rows actually inserted.
   * PostgreSQL sends multi-row statements (one round trip per ~1000 rows).
   */
  insertIgnore(
    table: string,
    cols: string[],
    conflict: string[],
    rows: SqlValue[][],
    pgTypes?: string[],
  ): Promise<number[]>;
  /** Runs `fn` in a transaction (serialised with other transactions of this handle); rolls back on error. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** `FOR UPDATE` on PostgreSQL, nothing on SQLite (whose write transactions are already exclusive). */
  readonly forUpdate: string;
  /**
   * Holds a lock named `name` until the current transaction ends (PostgreSQL advisory lock; nothing on SQLite, whose
   * write transactions are already exclusive). Call it inside {@link Db.transaction}.
   */
  lockUntilCommit(name: string): Promise<void>;
  close(): Promise<void>;
}

/** The tracker schema; the same text runs on SQLite and PostgreSQL. Timestamps are epoch milliseconds. */
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS workspaces (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS api_keys (key_hash TEXT PRIMARY KEY, workspace TEXT NOT NULL, prefix TEXT NOT NULL,
     label TEXT, created_at BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS projects (project_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, name TEXT NOT NULL,
     description TEXT, is_public INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, last_updated BIGINT NOT NULL,
     UNIQUE (workspace, name))`,
  `CREATE TABLE IF NOT EXISTS experiments (experiment_key TEXT PRIMARY KEY, workspace TEXT NOT NULL,
     project_id TEXT NOT NULL, name TEXT, start_time BIGINT, end_time BIGINT, heartbeat_at BIGINT,
     has_crashed INTEGER NOT NULL DEFAULT 0, error TEXT, optimization_id TEXT, archived INTEGER NOT NULL DEFAULT 0,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS experiments_project ON experiments (project_id)`,
  `CREATE TABLE IF NOT EXISTS series_summary (experiment_key TEXT NOT NULL, name TEXT NOT NULL, count BIGINT NOT NULL,
     value_min DOUBLE PRECISION, value_max DOUBLE PRECISION, value_last DOUBLE PRECISION,
     step_min BIGINT, step_max BIGINT, step_last BIGINT, epoch_last BIGINT,
     ts_min BIGINT NOT NULL, ts_max BIGINT NOT NULL, ts_last BIGINT NOT NULL, PRIMARY KEY (experiment_key, name))`,
  `CREATE TABLE IF NOT EXISTS params (experiment_key TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
     value TEXT, value_json TEXT, step BIGINT, ts BIGINT NOT NULL, PRIMARY KEY (experiment_key, kind, name))`,
  `CREATE TABLE IF NOT EXISTS tags (experiment_key TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (experiment_key, tag))`,
  `CREATE TABLE IF NOT EXISTS html (experiment_key TEXT NOT NULL, value_id TEXT NOT NULL, html TEXT NOT NULL,
     ts BIGINT NOT NULL, PRIMARY KEY (experiment_key, value_id))`,
  `CREATE TABLE IF NOT EXISTS output (experiment_key TEXT NOT NULL, value_id TEXT NOT NULL, line TEXT NOT NULL,
     stderr INTEGER NOT NULL, ts BIGINT NOT NULL, line_offset BIGINT, context TEXT, PRIMARY KEY (experiment_key, value_id))`,
  `CREATE TABLE IF NOT EXISTS details (experiment_key TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
     PRIMARY KEY (experiment_key, kind))`,
  `CREATE TABLE IF NOT EXISTS assets (asset_id TEXT PRIMARY KEY, experiment_key TEXT NOT NULL, client_id TEXT NOT NULL,
     file_name TEXT NOT NULL, file_size BIGINT NOT NULL, type TEXT NOT NULL, step BIGINT, epoch BIGINT,
     grouping_name TEXT, metadata TEXT, storage_key TEXT NOT NULL, created_at BIGINT NOT NULL,
     UNIQUE (experiment_key, client_id))`,
  `CREATE TABLE IF NOT EXISTS optimizers (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, project_name TEXT,
     name TEXT, config TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS trials (optimizer_id TEXT NOT NULL, pid TEXT NOT NULL, trial INTEGER NOT NULL,
     parameters TEXT NOT NULL, status TEXT NOT NULL, score DOUBLE PRECISION, epoch BIGINT, experiment_key TEXT,
     seq BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (optimizer_id, pid, trial))`,
  // leases of sweep trials handed to workers (see trial-leases.ts)
  `CREATE TABLE IF NOT EXISTS trial_leases (optimizer_id TEXT NOT NULL, pid TEXT NOT NULL, trial INTEGER NOT NULL,
     lease TEXT NOT NULL, worker TEXT, expires_at BIGINT, lease_millis BIGINT, reassigns INTEGER NOT NULL DEFAULT 0,
     final_lease TEXT, PRIMARY KEY (optimizer_id, pid, trial))`,
];

/**
 * The metric points table: an integer key (SQLite rowid / PostgreSQL identity) so inserts append, the client's
 * dedupe id in a unique index (exactly-once delivery), and a covering index in the order series are served
 * (`experiment_key, name, step, ts`, then the key), so a series read is one contiguous index range with no sort.
 */
export function metricsSchema(dialect: 'sqlite' | 'postgres'): string[] {
  const id = dialect === 'sqlite' ? 'id INTEGER PRIMARY KEY' : 'id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY';
  return [
    `CREATE TABLE IF NOT EXISTS metrics (${id}, experiment_key TEXT NOT NULL, value_id TEXT NOT NULL,
       name TEXT NOT NULL, value DOUBLE PRECISION, value_text TEXT, step BIGINT, epoch BIGINT, ts BIGINT NOT NULL,
       context TEXT)`,
    `CREATE UNIQUE INDEX IF NOT EXISTS metrics_value_id ON metrics (experiment_key, value_id)`,
    dialect === 'sqlite'
      ? `CREATE INDEX IF NOT EXISTS metrics_by_step ON metrics (experiment_key, name, step, ts, id, value, epoch)`
      : `CREATE INDEX IF NOT EXISTS metrics_by_step ON metrics (experiment_key, name, step, ts, id) INCLUDE (value, epoch)`,
    // every point of a series again, packed in arrival order (see series-blocks.ts): a chart reads a few blobs;
    // `upto` = points in this block and the ones before it
    `CREATE TABLE IF NOT EXISTS series_blocks (experiment_key TEXT NOT NULL, name TEXT NOT NULL, block INTEGER NOT NULL,
       count INTEGER NOT NULL, upto BIGINT NOT NULL, data ${dialect === 'sqlite' ? 'BLOB' : 'BYTEA'} NOT NULL,
       PRIMARY KEY (experiment_key, name, block))${dialect === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
  ];
}

/** Columns of the metrics table before it had an integer key (databases created by earlier versions). */
const LEGACY_METRIC_COLS = 'experiment_key, value_id, name, value, value_text, step, epoch, ts, context';

/** SQL that moves a legacy metrics table (text primary key) to the current schema, keeping every point. */
function migrateMetricsSql(dialect: 'sqlite' | 'postgres'): string[] {
  return [
    `DROP INDEX IF EXISTS metrics_series`,
    `ALTER TABLE metrics RENAME TO metrics_legacy`,
    ...metricsSchema(dialect).slice(0, 1),
    `INSERT INTO metrics (${LEGACY_METRIC_COLS}) SELECT ${LEGACY_METRIC_COLS} FROM metrics_legacy ORDER BY ts`,
    `DROP TABLE metrics_legacy`,
    ...metricsSchema(dialect).slice(1),
  ];
}

/** Opens (and creates) a SQLite database file in WAL mode with the tracker schema. */
export function openSqlite(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new OcropsError('OCROPS_TRACKER_DB', `cannot open SQLite database ${path}: ${(err as Error).message}`, {
      hint: 'check the --data-dir folder is writable',
      cause: err,
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  // 256 MiB page cache (negative = KiB) and memory-mapped reads: series reads and index updates stay in memory
  db.pragma('cache_size = -262144');
  db.pragma('mmap_size = 1073741824');
  db.pragma('temp_store = MEMORY');
  for (const s of SCHEMA) db.exec(s);
  const cols = db.prepare(`SELECT name FROM pragma_table_info('metrics')`).all() as Array<{ name: string }>;
  if (cols.length > 0 && !cols.some((c) => c.name === 'id'))
    db.transaction(() => migrateMetricsSql('sqlite').forEach((s) => db.exec(s)))();
  for (const s of metricsSchema('sqlite')) db.exec(s);
  return new SqliteDb(db);
}

class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly forUpdate = '';
  async lockUntilCommit(): Promise<void> {}
  private readonly cache = new Map<string, Database.Statement>();
  private readonly rawCache = new Map<string, Database.Statement>();
  private chain: Promise<unknown> = Promise.resolve();
  private inTx = false;

  constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.stmt(sql).all(...params) as T[];
  }
  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.stmt(sql).get(...params) as T | undefined;
  }
  async allTuples(sql: string, params: SqlValue[] = []): Promise<unknown[][]> {
    let s = this.rawCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql).raw(true);
      this.rawCache.set(sql, s);
    }
    return s.all(...params) as unknown[][];
  }
  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    return this.stmt(sql).run(...params).changes;
  }
  async runMany(sql: string, rows: SqlValue[][]): Promise<number[]> {
    const s = this.stmt(sql);
    return rows.map((r) => s.run(...r).changes);
  }

  async insertIgnore(table: string, cols: string[], conflict: string[], rows: SqlValue[][]): Promise<number[]> {
    const sql = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(',')}) ON CONFLICT (${conflict.join(', ')}) DO NOTHING`;
    const changes = await this.runMany(sql, rows);
    const out: number[] = [];
    changes.forEach((c, i) => c && out.push(i));
    return out;
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this); // nested: join the open transaction
    const next = this.chain.then(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      this.inTx = true;
      try {
        const out = await fn(this);
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        this.inTx = false;
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    this.db.close();
  }
}

/** Converts `?` placeholders to PostgreSQL's `$1, $2, ...`. */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Queryable = pg.Pool | pg.PoolClient;

class PgDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly forUpdate = ' FOR UPDATE';
  async lockUntilCommit(name: string): Promise<void> {
    // two-int4 key space: apart from the single-bigint lock that serialises schema creation
    await this.q.query('SELECT pg_advisory_xact_lock(1, hashtext($1))', [name]);
  }
  constructor(
    private readonly q: Queryable,
    private readonly pool: pg.Pool,
  ) {}

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    const r = await this.q.query(toPgPlaceholders(sql), params as unknown[]);
    return r.rows as T[];
  }
  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async allTuples(sql: string, params: SqlValue[] = []): Promise<unknown[][]> {
    const r = await this.q.query({ text: toPgPlaceholders(sql), values: params as unknown[], rowMode: 'array' });
    return r.rows as unknown[][];
  }
  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    const r = await this.q.query(toPgPlaceholders(sql), params as unknown[]);
    return r.rowCount ?? 0;
  }
  async runMany(sql: string, rows: SqlValue[][]): Promise<number[]> {
    const out: number[] = [];
    for (const r of rows) out.push(await this.run(sql, r));
    return out;
  }
  async insertIgnore(
    table: string,
    cols: string[],
    conflict: string[],
    rows: SqlValue[][],
    pgTypes: string[] = [],
  ): Promise<number[]> {
    const out: number[] = [];
    const chunk = Math.max(1, Math.floor(30_000 / cols.length));
    for (let start = 0; start < rows.length; start += chunk) {
      const part = rows.slice(start, start + chunk);
      const params: SqlValue[] = [];
      const tuples = part.map((r, i) => {
        params.push(...r, start + i);
        return `(${r.map((_, j) => `?::${pgTypes[j] ?? 'text'}`).join(',')}, ?::int)`;
      });
      // the row index travels in an extra column and comes back for the inserted rows only
      const inserted = await this.all<Record<string, unknown>>(
        `WITH v (${cols.join(', ')}, idx) AS (VALUES ${tuples.join(', ')}),
         ins AS (INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM v ORDER BY idx
           ON CONFLICT (${conflict.join(', ')}) DO NOTHING RETURNING ${conflict.join(', ')})
         SELECT MIN(v.idx) AS idx FROM v JOIN ins ON ${conflict.map((c) => `v.${c} = ins.${c}`).join(' AND ')}
         GROUP BY ${conflict.map((c) => `v.${c}`).join(', ')}`,
        params,
      );
      for (const r of inserted) out.push(Number(r.idx));
    }
    return out.sort((x, y) => x - y);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.q !== this.pool) return fn(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(new PgDb(client, this.pool));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
  async close(): Promise<void> {
    if (this.q === this.pool) await this.pool.end();
  }
}

/** Connects to PostgreSQL (`postgres://user@host:port/db`) and creates the tracker schema when missing. */
export async function openPostgres(url: string): Promise<Db> {
  // BIGINT (int8) and NUMERIC come back as strings by default; the tracker's values fit in a double.
  pg.types.setTypeParser(20, (v) => Number(v));
  pg.types.setTypeParser(701, (v) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  try {
    const client = await pool.connect();
    try {
      // Serialise schema creation between servers starting at the same time.
      await client.query('SELECT pg_advisory_lock(594959)');
      for (const s of SCHEMA) await client.query(s);
      const cols = await client.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'metrics'`,
      );
      if (cols.rows.length > 0 && !cols.rows.some((c: { column_name: string }) => c.column_name === 'id')) {
        await client.query('BEGIN');
        for (const s of migrateMetricsSql('postgres')) await client.query(s);
        await client.query('COMMIT');
      }
      for (const s of metricsSchema('postgres')) await client.query(s);
      await client.query('SELECT pg_advisory_unlock(594959)');
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new OcropsError(
      'OCROPS_TRACKER_DB',
      `cannot use PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`,
      {
        hint: 'check --database-url (postgres://user:password@host:port/database) and that the server is running',
        cause: err,
      },
    );
  }
  pool.on('error', () => undefined);
  return new PgDb(pool, pool);
}

/** Hides the password of a database URL in messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
