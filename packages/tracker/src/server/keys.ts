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
  return rows.map((r) => ({ workspace: r.workspace, prefix: r.prefix, label: r.label, createdAt: Number(r.created_at) }));
}
