// Receives a multipart/form-data upload: the `file` part streams to a temporary file (mode 0600) while its size is
// checked against the limit; the optional `metadata` part is a JSON object. Every failure (malformed body, missing
// closing boundary, size limit, client gone) removes the temporary file, closes its descriptor and settles exactly once.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, badRequest } from './http-error.js';

export interface ReceivedUpload {
  tmpPath: string;
  size: number;
  fileName?: string;
  metadata: Record<string, unknown> | null;
}

/** Slack for multipart framing (boundaries, part headers, the metadata part) over the file size limit. */
const FRAMING_BYTES = 2 * 1024 * 1024;

/** An upload larger than the server accepts: 413, and the connection is closed instead of reading the rest. */
export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `upload exceeds the server's limit of ${maxBytes} bytes (tracker serve --max-asset-mb)`);
}

/** Streams the request's `file` part to `<tmpDir>/<uuid>.part`; rejects with an HttpError (400/413/415) or the client's abort. */
export async function receiveMultipart(req: FastifyRequest, tmpDir: string, maxBytes: number): Promise<ReceivedUpload> {
  const ct = String(req.headers['content-type'] ?? '');
  if (!ct.startsWith('multipart/form-data'))
    throw new HttpError(415, 'upload-asset expects multipart/form-data with a part named "file"');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + FRAMING_BYTES) throw tooLarge(maxBytes);
  let bb: BusboyInstance;
  try {
    bb = new Busboy({
      headers: req.headers as any,
      limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 1 << 20, parts: 20 },
    });
  } catch (err) {
    throw badRequest(`malformed multipart request: ${(err as Error).message}`);
  }
  // the folder exists before any byte is read, so the part stream always has its consumer attached right away
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  return new Promise<ReceivedUpload>((resolve, reject) => {
    const raw = req.raw;
    let settled = false;
    let tmpPath: string | undefined;
    let out: WriteStream | undefined;
    let file: Promise<number> | undefined;
    let fileName: string | undefined;
    let metadata: Record<string, unknown> | null = null;
    let invalid: HttpError | undefined;

    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      raw.unpipe(bb);
      out?.destroy();
      const path = tmpPath;
      const cleanup = path ? rm(path, { force: true }).catch(() => {}) : Promise.resolve();
      // keep reading (and discarding) so the reply can be sent; the body deadline bounds a client that never ends
      raw.resume();
      void cleanup.then(() => reject(err));
    };
    const onClose = () => {
      if (!raw.readableEnded) fail(new Error('client closed the connection during the upload'));
    };
    raw.once('close', onClose);
    raw.once('aborted', onClose);
    // the client may have gone while the route awaited its lookups: no event will come any more
    if (raw.destroyed || raw.readableAborted) {
      onClose();
      return;
    }

    bb.on('field', (name: string, value: string) => {
      if (name !== 'metadata' || !value) return;
      try {
        const m = JSON.parse(value);
        if (m && typeof m === 'object' && !Array.isArray(m)) metadata = m;
        else invalid = badRequest('metadata part must be a JSON object');
      } catch {
        invalid = badRequest('metadata part is not valid JSON');
      }
    });
    bb.on('file', (name: string, stream: Readable, filename: string) => {
      stream.on('error', () => {}); // reported through busboy's own 'error' and the pipeline below
      if (name !== 'file' || file) {
        stream.resume();
        return;
      }
      fileName = filename;
      stream.once('limit', () => fail(tooLarge(maxBytes)));
      tmpPath = join(tmpDir, `${randomUUID()}.part`);
      out = createWriteStream(tmpPath, { mode: 0o600 });
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      file = pipeline(stream, out).then(() => size);
      file.catch((err: Error) => fail(badRequest(`malformed multipart request: ${err.message}`)));
    });
    bb.on('error', (err: Error) => fail(badRequest(`malformed multipart request: ${err.message}`)));
    bb.on('finish', () => {
      if (settled) return;
      if (!file) return fail(badRequest('upload-asset: missing multipart part "file"'));
      file.then(
        (size) => {
          if (settled) return;
          if (invalid) return fail(invalid);
          settled = true;
          raw.off('close', onClose);
          raw.off('aborted', onClose);
          resolve({ tmpPath: tmpPath!, size, fileName, metadata });
        },
        () => {}, // already failed above
      );
    });
    raw.pipe(bb);
  });
}

/**
 * An asset upload route's receiving step: the file part streamed to a temporary file. On a rejected body the
 * connection closes after the reply (the rest is not read); once received, storing it may take longer than the idle
 * timeout (S3), so the socket's timeout is lifted: the client is waiting, not idle.
 */
export async function receiveUpload(
  req: FastifyRequest,
  reply: FastifyReply,
  tmpDir: string,
  maxBytes: number,
): Promise<ReceivedUpload> {
  let upload: ReceivedUpload;
  try {
    upload = await receiveMultipart(req, tmpDir, maxBytes);
  } catch (err) {
    reply.header('connection', 'close');
    throw err;
  }
  req.raw.socket?.setTimeout(0);
  return upload;
}
