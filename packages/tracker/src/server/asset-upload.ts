// Storing an uploaded asset, one path for the Comet REST route (`write/experiment/upload-asset`) and the comet_ml SDK's
// upload routes: a replayed client id is answered from the store without reading the body; a name given in the query
// is checked before the body is read, the multipart part's own name once it is; and the temporary file never outlives
// a refused name or a failed store.
import { rm } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteContext } from './context.js';
import { badRequest } from './http-error.js';
import { receiveUpload } from './multipart.js';
import { newKey, type AssetRecord, type ExperimentRow } from './store.js';

/** Rejects asset names that could escape a folder or confuse a file system: `..`, absolute paths, backslashes, control characters. */
export function checkAssetName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(name))
    throw badRequest(`fileName "${name.slice(0, 100)}" contains control characters or backslashes`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw badRequest(`fileName "${name}" must be a relative name`);
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === ''))
    throw badRequest(`fileName "${name}" must not contain "..", "." or empty path segments`);
  return name;
}

/** What an upload route knows of the asset besides its bytes. */
export interface AssetUpload extends Pick<AssetRecord, 'step' | 'epoch' | 'type' | 'groupingName'> {
  /** the client's own id of the asset: a replay with an id already stored is a duplicate */
  clientId: string;
  /** the name the request's query gives; else the multipart part's file name */
  queryName?: string;
  /** the server id of a new asset (default: a new key) */
  assetId?: () => Promise<string>;
  /** replace an asset of the same name */
  overwrite: boolean;
}

export interface StoredUpload {
  assetId: string;
  fileName: string;
  /** the client id was already stored: a replay, answered with the asset stored first */
  duplicate: boolean;
}

/** Receives the request's multipart `file` part and stores it as an asset of experiment `e`. */
export async function storeAssetUpload(
  ctx: RouteContext,
  req: FastifyRequest,
  reply: FastifyReply,
  e: ExperimentRow,
  up: AssetUpload,
): Promise<StoredUpload> {
  const replayed = (a: AssetRecord): StoredUpload => ({ assetId: a.assetId, fileName: a.fileName, duplicate: true });
  const existing = await ctx.store.assetByClientId(e.experiment_key, up.clientId);
  if (existing) {
    req.raw.resume();
    return replayed(existing);
  }
  if (up.queryName !== undefined) checkAssetName(up.queryName);
  const { tmpPath, size, fileName, metadata } = await receiveUpload(req, reply, ctx.assets.tmpDir, ctx.maxAssetBytes);
  let name: string;
  let assetId: string;
  let storageKey: string;
  try {
    name = checkAssetName(up.queryName ?? fileName ?? '');
    assetId = up.assetId ? await up.assetId() : newKey();
    storageKey = `${e.experiment_key}/${assetId}`;
    await ctx.assets.putFile(storageKey, tmpPath, size);
  } catch (err) {
    await rm(tmpPath, { force: true });
    throw err;
  }
  const stored = await ctx.store.addAsset(
    e.experiment_key,
    up.clientId,
    {
      assetId,
      fileName: name,
      fileSize: size,
      step: up.step,
      epoch: up.epoch,
      type: up.type,
      groupingName: up.groupingName,
      metadata,
      createdAt: Date.now(),
      storageKey,
    },
    up.overwrite,
  );
  if (stored) return { assetId, fileName: name, duplicate: false };
  // a concurrent replay of the same client id was recorded first: answer with that one
  const first = await ctx.store.assetByClientId(e.experiment_key, up.clientId);
  return first ? replayed(first) : { assetId, fileName: name, duplicate: true };
}
