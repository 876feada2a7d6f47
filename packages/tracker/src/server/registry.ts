// The model registry's storage: registered models per workspace, their versions (what each records: source run,
// weights and their DVC md5, formats, metrics at registration, lineage), MLflow-style aliases unique per model, and
// the history of alias moves (who, when). Every change is one transaction, so a failed request leaves nothing behind.
import type { Db } from './db.js';
import { HttpError, notFound } from './http-error.js';
import { newKey } from './store.js';
import {
  ALIAS_PATTERN,
  ALLOWED_STATUS,
  VERSION_PATTERN,
  type AliasEvent,
  type RegistryVersion,
  type VersionRecord,
  type WeightsFile,
} from '../api/index.js';

export { ALIAS_PATTERN, ALLOWED_STATUS, VERSION_PATTERN, type AliasEvent, type VersionRecord, type WeightsFile };
/** A version as the API returns it (the wire type of @ocrops/tracker/api). */
export type VersionJson = RegistryVersion;

/** Registry tables; created at server start on SQLite and PostgreSQL alike. */
export const REGISTRY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS registry_models (model_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, name TEXT NOT NULL,
     description TEXT, notes TEXT, is_public INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL, created_by TEXT, UNIQUE (workspace, name))`,
  `CREATE TABLE IF NOT EXISTS registry_versions (item_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, version TEXT NOT NULL,
     seq BIGINT NOT NULL, experiment_key TEXT NOT NULL, experiment_model_name TEXT NOT NULL, comment TEXT,
     description TEXT, status TEXT, stages TEXT NOT NULL, tags TEXT NOT NULL, record TEXT NOT NULL,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, created_by TEXT, UNIQUE (model_id, version))`,
  `CREATE INDEX IF NOT EXISTS registry_versions_run ON registry_versions (experiment_key)`,
  `CREATE TABLE IF NOT EXISTS registry_aliases (model_id TEXT NOT NULL, alias TEXT NOT NULL, item_id TEXT NOT NULL,
     updated_at BIGINT NOT NULL, updated_by TEXT, PRIMARY KEY (model_id, alias))`,
  `CREATE TABLE IF NOT EXISTS registry_alias_events (event_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, alias TEXT NOT NULL,
     item_id TEXT, previous_item_id TEXT, at BIGINT NOT NULL, by_whom TEXT)`,
];

/** Creates the registry tables when missing (serialised between servers starting together on PostgreSQL). */
export async function ensureRegistrySchema(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.lockUntilCommit('ocrops-registry-schema');
    for (const s of REGISTRY_SCHEMA) await tx.run(s);
  });
}

export interface ModelRow {
  model_id: string;
  workspace: string;
  name: string;
  description: string | null;
  notes: string | null;
  is_public: number;
  created_at: number;
  updated_at: number;
  created_by: string | null;
}

export interface VersionRow {
  item_id: string;
  model_id: string;
  version: string;
  seq: number;
  experiment_key: string;
  experiment_model_name: string;
  comment: string | null;
  description: string | null;
  status: string | null;
  stages: string;
  tags: string;
  record: string;
  created_at: number;
  updated_at: number;
  created_by: string | null;
}

export interface NewVersion {
  experimentKey: string;
  experimentModelName: string;
  version?: string;
  comment?: string | null;
  description?: string | null;
  status?: string | null;
  stages?: string[];
  tags?: Record<string, string>;
  aliases?: string[];
  record: VersionRecord;
}

const num = (v: unknown) => Number(v);

export class RegistryStore {
  constructor(readonly db: Db) {}

  /** The model `name` of `workspace`; 404 naming it when unknown. */
  async model(workspace: string, name: string, db: Db = this.db): Promise<ModelRow> {
    const row = await db.get<ModelRow>('SELECT * FROM registry_models WHERE workspace = ? AND name = ?', [
      workspace,
      name,
    ]);
    if (!row) throw notFound(`registered model "${name}" not found in workspace "${workspace}"`);
    return row;
  }

  /** A model by id in any workspace (Comet's item ids); 403 when it belongs to another workspace than `workspace`. */
  async modelOfItem(workspace: string | null, itemId: string): Promise<{ model: ModelRow; version: VersionRow }> {
    const version = await this.db.get<VersionRow>('SELECT * FROM registry_versions WHERE item_id = ?', [itemId]);
    if (!version) throw notFound(`model version item "${itemId}" not found`);
    const model = (await this.db.get<ModelRow>('SELECT * FROM registry_models WHERE model_id = ?', [
      version.model_id,
    ]))!;
    if (workspace !== null && model.workspace !== workspace)
      throw new HttpError(403, `model version item "${itemId}" belongs to another workspace than "${workspace}"`);
    return { model, version };
  }

  async models(workspace: string): Promise<ModelRow[]> {
    return this.db.all<ModelRow>('SELECT * FROM registry_models WHERE workspace = ? ORDER BY name', [workspace]);
  }

  /** Whether `name` exists in another workspace but not in `workspace` (403 instead of 404 for aliases). */
  async existsElsewhere(workspace: string, name: string): Promise<boolean> {
    const row = await this.db.get('SELECT 1 AS x FROM registry_models WHERE name = ? AND workspace <> ?', [
      name,
      workspace,
    ]);
    return !!row;
  }

  async versions(modelId: string, db: Db = this.db): Promise<VersionRow[]> {
    return db.all<VersionRow>('SELECT * FROM registry_versions WHERE model_id = ? ORDER BY seq', [modelId]);
  }

  async versionsOfRun(experimentKey: string): Promise<Array<VersionRow & { model_name: string; workspace: string }>> {
    return this.db.all(
      `SELECT v.*, m.name AS model_name, m.workspace AS workspace FROM registry_versions v
       JOIN registry_models m ON m.model_id = v.model_id WHERE v.experiment_key = ? ORDER BY m.name, v.seq`,
      [experimentKey],
    );
  }

  /** Version `version` of a model; 404 naming both when unknown. */
  async version(model: ModelRow, version: string, db: Db = this.db): Promise<VersionRow> {
    const row = await db.get<VersionRow>('SELECT * FROM registry_versions WHERE model_id = ? AND version = ?', [
      model.model_id,
      version,
    ]);
    if (!row) throw notFound(`version "${version}" of model "${model.name}" not found`);
    return row;
  }

  /** The version an alias points at; `latest` = the newest version. 404 naming the alias when unset. */
  async versionByAlias(model: ModelRow, alias: string): Promise<VersionRow> {
    if (alias === 'latest') {
      const row = await this.db.get<VersionRow>(
        'SELECT * FROM registry_versions WHERE model_id = ? ORDER BY seq DESC LIMIT 1',
        [model.model_id],
      );
      if (!row) throw notFound(`model "${model.name}" has no versions yet (alias "latest")`);
      return row;
    }
    const row = await this.db.get<VersionRow>(
      `SELECT v.* FROM registry_aliases a JOIN registry_versions v ON v.item_id = a.item_id WHERE a.model_id = ? AND a.alias = ?`,
      [model.model_id, alias],
    );
    if (!row) throw notFound(`alias "${alias}" is not set on model "${model.name}"`);
    return row;
  }

  /** alias -> item id of a model. */
  async aliases(
    modelId: string,
  ): Promise<Array<{ alias: string; item_id: string; updated_at: number; updated_by: string | null }>> {
    return this.db.all(
      'SELECT alias, item_id, updated_at, updated_by FROM registry_aliases WHERE model_id = ? ORDER BY alias',
      [modelId],
    );
  }

  async aliasHistory(model: ModelRow): Promise<AliasEvent[]> {
    const rows = await this.db.all<Record<string, any>>(
      `SELECT e.alias, e.at, e.by_whom, v.version AS version, p.version AS previous FROM registry_alias_events e
       LEFT JOIN registry_versions v ON v.item_id = e.item_id LEFT JOIN registry_versions p ON p.item_id = e.previous_item_id
       WHERE e.model_id = ? ORDER BY e.at, e.event_id`,
      [model.model_id],
    );
    return rows.map((r) => ({
      alias: r.alias,
      version: r.version ?? null,
      previousVersion: r.previous ?? null,
      at: num(r.at),
      by: r.by_whom ?? null,
    }));
  }

  /**
   * Registers a new version (creating the model when `create` is given), with its aliases, in one transaction.
   * A version string already used by the model -> 409; `create` for an existing model -> 409.
   */
  async addVersion(
    workspace: string,
    modelName: string,
    v: NewVersion,
    by: string | null,
    create?: { description?: string | null; isPublic?: boolean; mustBeNew?: boolean },
  ): Promise<{ model: ModelRow; version: VersionRow }> {
    return this.db.transaction(async (tx) => {
      await tx.lockUntilCommit(`registry:${workspace}:${modelName}`);
      const now = Date.now();
      let model = await tx.get<ModelRow>('SELECT * FROM registry_models WHERE workspace = ? AND name = ?', [
        workspace,
        modelName,
      ]);
      if (model && create?.mustBeNew)
        throw new HttpError(
          409,
          `registered model "${modelName}" already exists in workspace "${workspace}": add a version with write/registry-model/item`,
        );
      if (!model) {
        if (!create) throw notFound(`registered model "${modelName}" not found in workspace "${workspace}"`);
        await tx.run(
          `INSERT INTO registry_models (model_id, workspace, name, description, is_public, created_at, updated_at, created_by)
           VALUES (?,?,?,?,?,?,?,?)`,
          [newKey(), workspace, modelName, create.description ?? null, create.isPublic ? 1 : 0, now, now, by],
        );
        model = (await tx.get<ModelRow>('SELECT * FROM registry_models WHERE workspace = ? AND name = ?', [
          workspace,
          modelName,
        ]))!;
      }
      const last = await tx.get<{ seq: number }>('SELECT MAX(seq) AS seq FROM registry_versions WHERE model_id = ?', [
        model.model_id,
      ]);
      const seq = num(last?.seq ?? 0) + 1;
      const version = v.version ?? (await nextNumber(tx, model.model_id));
      const dup = await tx.get('SELECT 1 AS x FROM registry_versions WHERE model_id = ? AND version = ?', [
        model.model_id,
        version,
      ]);
      if (dup)
        throw new HttpError(
          409,
          `version "${version}" of model "${modelName}" already exists: choose another version or omit it`,
        );
      const itemId = newKey();
      await tx.run(
        `INSERT INTO registry_versions (item_id, model_id, version, seq, experiment_key, experiment_model_name, comment, description,
           status, stages, tags, record, created_at, updated_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
        [
          itemId,
          model.model_id,
          version,
          seq,
          v.experimentKey,
          v.experimentModelName,
          v.comment ?? null,
          v.description ?? null,
          v.status ?? 'None',
          JSON.stringify(v.stages ?? []),
          JSON.stringify(v.tags ?? {}),
          JSON.stringify(v.record),
          now,
          now,
          by,
        ],
      );
      await tx.run('UPDATE registry_models SET updated_at = ? WHERE model_id = ?', [now, model.model_id]);
      for (const alias of v.aliases ?? []) await setAliasTx(tx, model, alias, itemId, by, now);
      const row = (await tx.get<VersionRow>('SELECT * FROM registry_versions WHERE item_id = ?', [itemId]))!;
      return { model, version: row };
    });
  }

  /** Points `alias` at `version` (moving it from another version), recording who and when. */
  async setAlias(model: ModelRow, alias: string, version: string, by: string | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      const v = await this.version(model, version, tx);
      await setAliasTx(tx, model, alias, v.item_id, by, Date.now());
    });
  }

  /** Removes an alias (404 when it is not set). */
  async deleteAlias(model: ModelRow, alias: string, by: string | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      const cur = await tx.get<{ item_id: string }>(
        `SELECT item_id FROM registry_aliases WHERE model_id = ? AND alias = ?${tx.forUpdate}`,
        [model.model_id, alias],
      );
      if (!cur) throw notFound(`alias "${alias}" is not set on model "${model.name}"`);
      await tx.run('DELETE FROM registry_aliases WHERE model_id = ? AND alias = ?', [model.model_id, alias]);
      await tx.run(
        'INSERT INTO registry_alias_events (event_id, model_id, alias, item_id, previous_item_id, at, by_whom) VALUES (?,?,?,?,?,?,?)',
        [newKey(), model.model_id, alias, null, cur.item_id, Date.now(), by],
      );
    });
  }

  /** Updates a version's comment, description, status, stages or tags (tags merge; `removeTags` drops keys). */
  async updateVersion(
    itemId: string,
    patch: {
      comment?: string;
      description?: string;
      status?: string;
      stages?: string[];
      tags?: Record<string, string>;
      removeTags?: string[];
    },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await tx.get<VersionRow>(`SELECT * FROM registry_versions WHERE item_id = ?${tx.forUpdate}`, [
        itemId,
      ]);
      if (!row) throw notFound(`model version item "${itemId}" not found`);
      const tags = { ...JSON.parse(row.tags), ...(patch.tags ?? {}) } as Record<string, string>;
      for (const k of patch.removeTags ?? []) delete tags[k];
      await tx.run(
        'UPDATE registry_versions SET comment = ?, description = ?, status = ?, stages = ?, tags = ?, updated_at = ? WHERE item_id = ?',
        [
          patch.comment ?? row.comment,
          patch.description ?? row.description,
          patch.status ?? row.status,
          JSON.stringify(patch.stages ?? JSON.parse(row.stages)),
          JSON.stringify(tags),
          Date.now(),
          itemId,
        ],
      );
    });
  }

  /** The JSON of a version, with the aliases pointing at it. */
  async versionJson(model: ModelRow, v: VersionRow): Promise<VersionJson> {
    const aliases = (await this.aliases(model.model_id)).filter((a) => a.item_id === v.item_id).map((a) => a.alias);
    return versionJson(model, v, aliases);
  }
}

/** Builds a version's JSON from its row. */
export function versionJson(model: ModelRow, v: VersionRow, aliases: string[]): VersionJson {
  const record = JSON.parse(v.record) as VersionRecord;
  return {
    registryModelItemId: v.item_id,
    modelName: model.name,
    version: v.version,
    experimentKey: v.experiment_key,
    experimentModelName: v.experiment_model_name,
    comment: v.comment ?? '',
    description: v.description ?? '',
    status: v.status ?? 'None',
    stages: JSON.parse(v.stages),
    tags: JSON.parse(v.tags),
    aliases,
    createdAt: num(v.created_at),
    lastUpdated: num(v.updated_at),
    createdBy: v.created_by,
    ...record,
  };
}

async function nextNumber(tx: Db, modelId: string): Promise<string> {
  const rows = await tx.all<{ version: string }>('SELECT version FROM registry_versions WHERE model_id = ?', [modelId]);
  let max = 0;
  for (const r of rows) if (/^\d+$/.test(r.version)) max = Math.max(max, Number(r.version));
  return String(max + 1);
}

async function setAliasTx(
  tx: Db,
  model: ModelRow,
  alias: string,
  itemId: string,
  by: string | null,
  now: number,
): Promise<void> {
  if (alias === 'latest') throw new HttpError(400, 'alias "latest" is reserved: it always means the newest version');
  const cur = await tx.get<{ item_id: string }>(
    `SELECT item_id FROM registry_aliases WHERE model_id = ? AND alias = ?${tx.forUpdate}`,
    [model.model_id, alias],
  );
  if (cur?.item_id === itemId) return;
  if (cur)
    await tx.run(
      'UPDATE registry_aliases SET item_id = ?, updated_at = ?, updated_by = ? WHERE model_id = ? AND alias = ?',
      [itemId, now, by, model.model_id, alias],
    );
  else
    await tx.run('INSERT INTO registry_aliases (model_id, alias, item_id, updated_at, updated_by) VALUES (?,?,?,?,?)', [
      model.model_id,
      alias,
      itemId,
      now,
      by,
    ]);
  await tx.run(
    'INSERT INTO registry_alias_events (event_id, model_id, alias, item_id, previous_item_id, at, by_whom) VALUES (?,?,?,?,?,?,?)',
    [newKey(), model.model_id, alias, itemId, cur?.item_id ?? null, now, by],
  );
}
