// Packed series: every point of a (run, metric) series is kept a second time in `series_blocks`, in arrival order,
// as blobs of up to BLOCK_POINTS points (four float64 columns: step, epoch, timestamp, value; NaN = null). A chart
// then reads a few blobs instead of thousands of index rows (materialising one JS value per row and column was
// most of a series request), and downsamples typed arrays with the same buckets as `downsample`.
//
// Arrival order is the metrics table's id order: points are appended in the transaction that inserts them, in
// insert order, and writers of one run are serialised (SQLite write transactions are exclusive; PostgreSQL takes a
// per-run advisory lock), so ties of (x, timestamp) break by id as in the index read. Only newly inserted points are
// appended (re-sent values are deduplicated by the metrics table first); points may arrive in any x order. A series
// whose blocks do not hold exactly its summary count (data written before this table existed) is rebuilt from the
// metrics table on its next write and read from the covering index until then.
import type { Db } from './db.js';
import { bucketMinMax } from './query.js';
import type { SeriesPoint } from '../types.js';

/** Points per block (a block is 32 bytes per point: 32 KiB). */
export const BLOCK_POINTS = 1024;

/** One point as appended: numbers or null (null is stored as NaN; values are finite, so NaN is free). */
export interface PackedPoint {
  step: number | null;
  epoch: number | null;
  timestamp: number;
  value: number | null;
}

/** A series as columns in arrival order: `[count]` float64 arrays, NaN for null. */
export interface SeriesColumns {
  count: number;
  step: Float64Array;
  epoch: Float64Array;
  timestamp: Float64Array;
  value: Float64Array;
}

/**
 * Packs points into one blob: step[count], epoch[count], timestamp[count], value[count] (little-endian float64),
 * after the points of `head` when given (blocks being merged, copied column by column).
 */
export function encodeBlock(points: PackedPoint[], head?: SeriesColumns): Uint8Array {
  const h = head?.count ?? 0;
  const n = h + points.length;
  const a = new Float64Array(4 * n);
  if (head) {
    a.set(head.step, 0);
    a.set(head.epoch, n);
    a.set(head.timestamp, 2 * n);
    a.set(head.value, 3 * n);
  }
  for (let k = 0; k < points.length; k++) {
    const p = points[k];
    const i = h + k;
    a[i] = p.step ?? NaN;
    a[n + i] = p.epoch ?? NaN;
    a[2 * n + i] = p.timestamp;
    a[3 * n + i] = p.value ?? NaN;
  }
  return new Uint8Array(a.buffer);
}

/** The float64 view of a block blob of `count` points (copied when the driver's buffer is not 8-byte aligned). */
function blockArray(data: Uint8Array, count: number): Float64Array {
  if (data.byteLength !== 32 * count) throw new Error(`series block of ${count} points has ${data.byteLength} bytes`);
  if (data.byteOffset % 8 === 0) return new Float64Array(data.buffer, data.byteOffset, 4 * count);
  return new Float64Array(data.slice().buffer, 0, 4 * count);
}

/** Unpacks a block into points. */
export function decodeBlock(data: Uint8Array, count: number): PackedPoint[] {
  const a = blockArray(data, count);
  const nul = (v: number) => (Number.isNaN(v) ? null : v);
  return Array.from({ length: count }, (_, i) => ({
    step: nul(a[i]),
    epoch: nul(a[count + i]),
    timestamp: a[2 * count + i],
    value: nul(a[3 * count + i]),
  }));
}

/** Concatenates blocks (in block order) into columns. */
export function blocksToColumns(blocks: Array<{ count: number; data: Uint8Array }>): SeriesColumns {
  const total = blocks.reduce((s, b) => s + Number(b.count), 0);
  const out: SeriesColumns = {
    count: total,
    step: new Float64Array(total),
    epoch: new Float64Array(total),
    timestamp: new Float64Array(total),
    value: new Float64Array(total),
  };
  let at = 0;
  for (const b of blocks) {
    const n = Number(b.count);
    const a = blockArray(b.data, n);
    out.step.set(a.subarray(0, n), at);
    out.epoch.set(a.subarray(n, 2 * n), at);
    out.timestamp.set(a.subarray(2 * n, 3 * n), at);
    out.value.set(a.subarray(3 * n), at);
    at += n;
  }
  return out;
}

/** Writes `points` as new blocks numbered from `first`, after blocks holding `held` points. */
async function insertBlocks(
  tx: Db,
  key: string,
  name: string,
  first: number,
  held: number,
  points: PackedPoint[],
): Promise<void> {
  const rows = [];
  for (let i = 0; i < points.length; i += BLOCK_POINTS) {
    const part = points.slice(i, i + BLOCK_POINTS);
    rows.push([key, name, first + i / BLOCK_POINTS, part.length, held + i + part.length, encodeBlock(part)]);
  }
  if (rows.length)
    await tx.runMany(
      'INSERT INTO series_blocks (experiment_key, name, block, count, upto, data) VALUES (?,?,?,?,?,?)',
      rows,
    );
}

/** Most trailing blocks looked at for a merge (sizes at least double towards the front: log2(BLOCK_POINTS) + 1). */
const MERGE_DEPTH = 12;

/**
 * Appends newly inserted points of one series (in insert order) to its blocks, inside the inserting transaction.
 * The new points become a block of their own, merged with the trailing blocks that are not larger than what is being
 * merged (while the result fits in a block): like a binary counter, a series logged a few points at a time keeps
 * O(log) small blocks at its end and rewrites each point O(log BLOCK_POINTS) times, instead of rewriting a whole
 * block per append. `countBefore` is the series' summary count before this batch: when the blocks do not hold
 * exactly that many points (a series written before blocks existed) they are rebuilt from the metrics table instead.
 */
export async function appendToBlocks(
  tx: Db,
  key: string,
  name: string,
  points: PackedPoint[],
  countBefore: number,
): Promise<void> {
  if (points.length === 0) return;
  // the trailing blocks' sizes; the last one's `upto` is how many points all blocks hold
  const tail = await tx.all<{ block: number; count: number; upto: number }>(
    'SELECT block, count, upto FROM series_blocks WHERE experiment_key = ? AND name = ? ORDER BY block DESC LIMIT ?',
    [key, name, MERGE_DEPTH],
  );
  const held = Number(tail[0]?.upto ?? 0);
  if (held !== countBefore) return rebuildBlocks(tx, key, name);
  let size = points.length;
  let merged = 0;
  for (const b of tail) {
    const n = Number(b.count);
    if (n > size || n + size > BLOCK_POINTS) break;
    size += n;
    merged++;
  }
  if (merged === 0) return insertBlocks(tx, key, name, tail.length ? Number(tail[0].block) + 1 : 0, held, points);
  const first = Number(tail[merged - 1].block);
  const head = blocksToColumns(
    await tx.all<{ count: number; data: Uint8Array }>(
      'SELECT count, data FROM series_blocks WHERE experiment_key = ? AND name = ? AND block >= ? ORDER BY block',
      [key, name, first],
    ),
  );
  if (merged > 1)
    await tx.run('DELETE FROM series_blocks WHERE experiment_key = ? AND name = ? AND block > ?', [key, name, first]);
  await tx.run(
    'UPDATE series_blocks SET count = ?, upto = ?, data = ? WHERE experiment_key = ? AND name = ? AND block = ?',
    [size, held + points.length, encodeBlock(points, head), key, name, first],
  );
}

/** Rewrites the blocks of one series from every point of the metrics table, in id (arrival) order. */
export async function rebuildBlocks(tx: Db, key: string, name: string): Promise<void> {
  await tx.run('DELETE FROM series_blocks WHERE experiment_key = ? AND name = ?', [key, name]);
  const rows = await tx.allTuples(
    'SELECT step, epoch, ts, value FROM metrics WHERE experiment_key = ? AND name = ? ORDER BY id',
    [key, name],
  );
  const num = (v: unknown) => (v === null ? null : Number(v));
  await insertBlocks(
    tx,
    key,
    name,
    0,
    0,
    rows.map((r) => ({ step: num(r[0]), epoch: num(r[1]), timestamp: Number(r[2]), value: num(r[3]) })),
  );
}

/**
 * Every point of one series from its blocks, or undefined when the blocks are not complete (they must hold exactly
 * the summary count; otherwise the caller reads the covering index).
 */
export async function readBlocks(db: Db, key: string, name: string): Promise<SeriesColumns | undefined> {
  // one query (one round trip on PostgreSQL): the summary count on every row, no block rows when there are none
  const rows = await db.all<{ total: number; count: number | null; data: Uint8Array | null }>(
    `SELECT s.count AS total, b.count, b.data FROM series_summary s
     LEFT JOIN series_blocks b ON b.experiment_key = s.experiment_key AND b.name = s.name
     WHERE s.experiment_key = ? AND s.name = ? ORDER BY b.block`,
    [key, name],
  );
  const blocks = rows.filter(
    (r): r is { total: number; count: number; data: Uint8Array } => r.data !== null && r.count !== null,
  );
  const cols = blocksToColumns(blocks);
  return cols.count === Number(rows[0]?.total ?? 0) ? cols : undefined;
}

/**
 * The series endpoint's answer from columns: points with a non-null x (`x` = step, epoch or timestamp) within
 * [from, to], ordered by (x, timestamp, arrival), then at most `n` points with exactly the buckets and fields of
 * `downsample` (equal-width buckets on x, each point the bucket's last with the bucket's min/max; by position when
 * every x is equal).
 */
export function seriesFromColumns(
  c: SeriesColumns,
  x: 'step' | 'epoch' | 'timestamp',
  n: number,
  from?: number,
  to?: number,
): { total: number; downsampled: boolean; points: SeriesPoint[] } {
  const xs = c[x];
  const ts = c.timestamp;
  const lo = from ?? -Infinity;
  const hi = to ?? Infinity;
  let order: number[] = [];
  let sorted = true;
  for (let i = 0; i < c.count; i++) {
    const v = xs[i];
    if (Number.isNaN(v) || v < lo || v > hi) continue;
    if (sorted && order.length) {
      const j = order[order.length - 1];
      if (v < xs[j] || (v === xs[j] && ts[i] < ts[j])) sorted = false;
    }
    order.push(i);
  }
  // arrival order breaks ties, as the metrics id does in the index read
  if (!sorted) order = order.sort((i, j) => xs[i] - xs[j] || ts[i] - ts[j] || i - j);
  const nul = (v: number) => (Number.isNaN(v) ? null : v);
  const point = (i: number, min: number | null, max: number | null): SeriesPoint => ({
    x: xs[i],
    step: nul(c.step[i]),
    epoch: nul(c.epoch[i]),
    timestamp: ts[i],
    value: nul(c.value[i]),
    min,
    max,
  });
  const total = order.length;
  if (total <= n)
    return { total, downsampled: false, points: order.map((i) => point(i, nul(c.value[i]), nul(c.value[i]))) };
  const points = bucketMinMax(
    order,
    n,
    (i) => xs[i],
    (i) => nul(c.value[i]),
    point,
  );
  return { total, downsampled: true, points };
}
