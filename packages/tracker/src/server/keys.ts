// API keys: one or more per workspace; only the SHA-256 of a key is stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export interface ApiKeyInfo {
  workspace: string;
  prefix: string;
  label: string | null;
  createdAt: number;
}

/** SHA-256 hex of a key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Valid workspace/project names: letters, digits, `-`, `_`, `.`, 1-100 characters. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

/** Creates the workspace when missing. */
export async function ensureWorkspace(db: Db, workspace: string): Promise<void> {
  await db.run('INSERT INTO workspaces (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [
    workspace,
    Date.now(),
  ]);
}

/** Creates a new API key for `workspace` (creating the workspace) and returns it; the key is shown only once. */
export async function createApiKey(db: Db, workspace: string, label?: string): Promise<string> {
  await ensureWorkspace(db, workspace);
  const key = randomBytes(24).toString('base64url');
  await db.run('INSERT INTO api_keys (key_hash, workspace, prefix, label, created_at) VALUES (?, ?, ?, ?, ?)', [
    hashKey(key),
    workspace,
    key.slice(0, 6),
    label ?? null,
    Date.now(),
  ]);
  return key;
}

/** The workspace a key belongs to, or undefined. */
export async function workspaceOfKey(db: Db, key: string): Promise<string | undefined> {
  const row = await db.get<{ workspace: string }>('SELECT workspace FROM api_keys WHERE key_hash = ?', [hashKey(key)]);
  return row?.workspace;
}

/** Lists keys (prefix only) per workspace. */
export async function listApiKeys(db: Db, workspace?: string): Promise<ApiKeyInfo[]> {
  const rows = await db.all<{ workspace: string; prefix: string; label: string | null; created_at: number }>(
    workspace
      ? 'SELECT workspace, prefix, label, created_at FROM api_keys WHERE workspace = ? ORDER BY created_at'
      : 'SELECT workspace, prefix, label, created_at FROM api_keys ORDER BY workspace, created_at',
    workspace ? [workspace] : [],
  );
  return rows.map((r) => ({
    workspace: r.workspace,
    prefix: r.prefix,
    label: r.label,
    createdAt: Number(r.created_at),
  }));
}

/**
 * Deletes API keys: the one given in full, or the keys whose shown prefix (from `keys list`) matches, optionally only in
 * `workspace`. Throws when a prefix matches keys of several workspaces and none was named. Returns how many were removed.
 */
export async function revokeApiKeys(
  db: Db,
  which: { key?: string; prefix?: string; workspace?: string },
): Promise<number> {
  if (which.key) return db.run('DELETE FROM api_keys WHERE key_hash = ?', [hashKey(which.key)]);
  if (!which.prefix) throw new Error('revokeApiKeys needs a key or a prefix');
  const rows = await db.all<{ workspace: string }>('SELECT workspace FROM api_keys WHERE prefix = ?', [which.prefix]);
  const matching = which.workspace ? rows.filter((r) => r.workspace === which.workspace) : rows;
  const workspaces = new Set(matching.map((r) => r.workspace));
  if (workspaces.size > 1)
    throw new Error(
      `prefix ${which.prefix} matches keys of workspaces ${[...workspaces].join(', ')}; name one with --workspace or give --key`,
    );
  if (!matching.length) return 0;
  return db.run('DELETE FROM api_keys WHERE prefix = ? AND workspace = ?', [which.prefix, matching[0].workspace]);
}
