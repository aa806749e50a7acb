/**
 * The relay's blob store over HTTP (docs/relay-api.md, "Blobs"): resumable uploads of opaque
 * ciphertext, finalize with a SHA-256 check, ranged downloads, deletion by the uploader and by
 * TTL. Only requests under `basePath` reach this; everything else stays the cover website.
 *
 *   POST   {base}/uploads            create (signed by a registered device) -> 201 CreateUploadReply
 *   HEAD   {base}/uploads/{secret}   committed length in `upload-offset` (GET: the same as JSON)
 *   PATCH  {base}/uploads/{secret}   bytes at `upload-offset` (must equal the committed length)
 *   POST   {base}/uploads/{secret}   finalize {"sha256": hex}
 *   DELETE {base}/uploads/{secret}   delete the upload or the finished blob
 *   GET    {base}/{blobId}           download (Range: one byte range -> 206)
 *
 * Durability: a PATCH's bytes are fsynced, then the committed length is recorded, then the
 * reply goes out. A dropped connection still commits what arrived (that is what makes resuming
 * on a throttled link cheap). Operations on one upload run one at a time; a new one preempts a
 * PATCH still streaming (the old connection is usually dead already).
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BLOB_AUTH_SCHEME,
  BLOB_CREATE_NONCE_BYTES,
  BLOB_ERROR_STATUS,
  BLOB_HEADERS,
  BLOB_ID_BYTES,
  MAX_BLOB_CLOCK_SKEW_MS,
  MAX_BLOB_JSON_BYTES,
  UPLOAD_SECRET_BYTES,
  BlobError,
  blobCreateMessage,
  type BlobErrorCode,
  type CreateUploadReply,
  type FinalizeReply,
} from '@pigeon/api';
import { equalBytes, fromBase64Url, fromHex, toBase64Url, toHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import type { RelayLogger } from '../logger.js';
import type { RelayClock } from '../options.js';
import type { StoredDevice } from '../store/types.js';
import { BodyQueue } from './body-queue.js';
import type { BlobBytes } from './bytes.js';
import type { BlobLimits } from './options.js';
import { parseRange } from './range.js';
import type { BlobRecord, BlobStore } from './types.js';

/** Received bytes gathered before one positional write. */
export const WRITE_BATCH_BYTES = 1024 * 1024;
/** Expired records handled per sweep round. */
export const BLOB_SWEEP_BATCH = 500;

export interface BlobServiceDeps {
  readonly basePath: string;
  readonly files: BlobBytes;
  readonly store: BlobStore;
  readonly devices: { getDevice(deviceId: Uint8Array): Promise<StoredDevice | undefined> };
  readonly crypto: CryptoBackend;
  readonly clock: RelayClock;
  readonly limits: BlobLimits;
  readonly logger: RelayLogger;
}

export interface BlobService {
  readonly basePath: string;
  /** Handles the request when its path is under basePath; false otherwise (not touched). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Deletes expired uploads and blobs (files first, then records). Returns how many. */
  sweep(): Promise<number>;
  /** Removes files that have no record (left by a crash). */
  removeOrphans(): Promise<number>;
  /** Stops running uploads and waits for them. */
  close(): Promise<void>;
}

class Refusal extends BlobError {}

const refuse = (code: BlobErrorCode, message: string, offset?: number): Refusal => new Refusal(code, message, { offset });

/** Running uploads hash as they go, so finalize rarely rereads the file. */
interface RunningHash {
  readonly hash: Hash;
  position: number;
}

export function createBlobService(deps: BlobServiceDeps): BlobService {
  const { basePath, files, store, crypto, clock, limits, logger } = deps;
  const prefix = basePath + '/';
  const tails = new Map<string, Promise<void>>();
  const runningPatch = new Map<string, () => void>();
  const hashes = new Map<string, RunningHash>();
  /** nonce hex -> wall time after which it can no longer be replayed (the timestamp is stale by then). */
  const nonces = new Map<string, number>();
  let closed = false;

  /** One operation per upload at a time; a new one preempts a streaming PATCH. */
  function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    runningPatch.get(key)?.();
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  }

  function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  function sendError(req: IncomingMessage, res: ServerResponse, code: BlobErrorCode, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Do not read a body we refuse: close the connection after the reply instead.
    if (!req.complete) res.setHeader('connection', 'close');
    sendJson(req, res, BLOB_ERROR_STATUS[code], { error: code }, { [BLOB_HEADERS.error]: code, ...headers });
  }

  async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (!(declared <= MAX_BLOB_JSON_BYTES)) throw refuse('BAD_REQUEST', 'body too large');
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of req) {
      total += (chunk as Buffer).length;
      if (total > MAX_BLOB_JSON_BYTES) throw refuse('BAD_REQUEST', 'body too large');
      parts.push(chunk as Buffer);
    }
    try {
      const value: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'));
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
      return value as Record<string, unknown>;
    } catch {
      throw refuse('BAD_REQUEST', 'body is not a JSON object');
    }
  }

  function parseOffset(value: string | string[] | undefined): number {
    if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw refuse('BAD_REQUEST', 'upload-offset header missing or malformed');
    return Number(value);
  }

  // ---- create -------------------------------------------------------------------------------

  function rememberNonce(nonceHex: string, now: number): boolean {
    const until = nonces.get(nonceHex);
    if (until !== undefined && until > now) return false;
    nonces.set(nonceHex, now + 2 * MAX_BLOB_CLOCK_SKEW_MS);
    // Bounded memory: forget the oldest. A forgotten nonce can only be replayed while its
    // timestamp is fresh, and a replay only reserves quota of the signer's account.
    while (nonces.size > limits.maxRememberedNonces) nonces.delete(nonces.keys().next().value as string);
    return true;
  }

  async function create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = req.headers[BLOB_HEADERS.authorization];
    const match = typeof auth === 'string' ? new RegExp(`^${BLOB_AUTH_SCHEME} ([0-9a-f]{32})\\.(\\d{1,15})\\.([A-Za-z0-9_-]{1,64})\\.([A-Za-z0-9_-]{1,128})$`).exec(auth) : null;
    if (match === null) throw refuse('UNAUTHORIZED', 'missing or malformed authorization');
    const body = await readJson(req);
    const size = body['size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw refuse('BAD_REQUEST', 'size must be a non-negative integer');
    const deviceId = fromHex(match[1]!);
    const timestamp = Number(match[2]);
    let nonce: Uint8Array;
    let signature: Uint8Array;
    try {
      nonce = fromBase64Url(match[3]!);
      signature = fromBase64Url(match[4]!);
    } catch {
      throw refuse('UNAUTHORIZED', 'malformed authorization');
    }
    if (nonce.length !== BLOB_CREATE_NONCE_BYTES) throw refuse('UNAUTHORIZED', 'malformed nonce');
    const now = clock.now();
    if (Math.abs(now - timestamp) > MAX_BLOB_CLOCK_SKEW_MS) throw refuse('UNAUTHORIZED', 'stale timestamp');
    const device = await deps.devices.getDevice(deviceId);
    if (device === undefined || !(await crypto.ed25519Verify(device.signingKey, blobCreateMessage(deviceId, timestamp, nonce, size), signature))) {
      throw refuse('UNAUTHORIZED', 'signature does not verify');
    }
    if (!rememberNonce(toHex(nonce), now)) throw refuse('UNAUTHORIZED', 'replayed request');
    if (size > limits.maxBlobBytes) throw refuse('TOO_LARGE', 'blob too large');

    const blobId = crypto.randomBytes(BLOB_ID_BYTES);
    const secret = crypto.randomBytes(UPLOAD_SECRET_BYTES);
    const record: BlobRecord = {
      blobId,
      uploadHash: await crypto.sha256(secret),
      accountId: device.accountId,
      size,
      committed: 0,
      state: 'uploading',
      sha256: null,
      createdAt: now,
      expiresAt: now + limits.uploadTtlMs,
    };
    const result = await store.createUpload(record, { maxConcurrentUploads: limits.maxConcurrentUploadsPerAccount, quotaBytes: limits.quotaBytesPerAccount });
    if (result === 'too_many_uploads') throw refuse('TOO_MANY_UPLOADS', 'too many unfinished uploads');
    if (result === 'quota_exceeded') throw refuse('QUOTA_EXCEEDED', 'storage quota exceeded');
    logger.info('blob_upload_created');
    const reply: CreateUploadReply = {
      blobId: toHex(blobId),
      uploadPath: `${basePath}/uploads/${toBase64Url(secret)}`,
      downloadPath: `${basePath}/${toHex(blobId)}`,
      expiresAt: record.expiresAt,
    };
    sendJson(req, res, 201, reply);
  }

  // ---- upload resource ----------------------------------------------------------------------

  async function findUpload(secretText: string): Promise<BlobRecord> {
    let secret: Uint8Array;
    try {
      secret = fromBase64Url(secretText);
    } catch {
      throw refuse('NOT_FOUND', 'no such upload');
    }
    if (secret.length !== UPLOAD_SECRET_BYTES) throw refuse('NOT_FOUND', 'no such upload');
    const record = await store.getByUploadHash(await crypto.sha256(secret));
    if (record === undefined || record.expiresAt <= clock.now()) throw refuse('NOT_FOUND', 'no such upload');
    return record;
  }

  function statusHeaders(record: BlobRecord): Record<string, string> {
    return { [BLOB_HEADERS.offset]: String(record.committed), [BLOB_HEADERS.length]: String(record.size) };
  }

  async function status(req: IncomingMessage, res: ServerResponse, secretText: string): Promise<void> {
    const first = await findUpload(secretText);
    await exclusive(toHex(first.blobId), async () => {
      const record = (await store.getBlob(first.blobId)) ?? first;
      sendJson(req, res, 200, { blobId: toHex(record.blobId), size: record.size, offset: record.committed, state: record.state }, statusHeaders(record));
    });
  }

  async function patch(req: IncomingMessage, res: ServerResponse, secretText: string): Promise<void> {
    // Listening before the lookups below: bytes that arrive while they run survive a drop.
    const body = new BodyQueue(req);
    try {
      const first = await findUpload(secretText);
      const key = toHex(first.blobId);
      await exclusive(key, async () => {
        const record = await store.getBlob(first.blobId);
        if (record === undefined) throw refuse('NOT_FOUND', 'no such upload');
        if (record.state === 'complete') throw refuse('ALREADY_FINALIZED', 'blob already finalized');
        const offset = parseOffset(req.headers[BLOB_HEADERS.offset]);
        if (offset !== record.committed) throw refuse('OFFSET_MISMATCH', 'offset is not the committed length', record.committed);
        const lengthHeader = req.headers['content-length'];
        if (lengthHeader === undefined || !/^\d{1,15}$/.test(lengthHeader)) throw refuse('BAD_REQUEST', 'content-length required');
        if (offset + Number(lengthHeader) > record.size) throw refuse('TOO_LARGE', 'bytes beyond the declared size');

        let running = hashes.get(key);
        if (running === undefined && offset === 0) hashes.set(key, (running = { hash: createHash('sha256'), position: 0 }));
        if (running !== undefined && running.position !== offset) {
          hashes.delete(key); // finalize will reread the file
          running = undefined;
        }
        let position = offset;
        let interrupted = false;
        runningPatch.set(key, () => {
          interrupted = true;
          req.destroy();
        });
        const writer = await files.openWriter(key, offset);
        // Socket reads are ~64 KiB; write in larger batches (fewer syscalls and awaits).
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const flush = async () => {
          if (pendingBytes === 0) return;
          const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          await writer.write(buf);
          running?.hash.update(buf);
          position += buf.length;
          if (running) running.position = position;
        };
        try {
          try {
            for (let chunk = await body.next(); chunk !== null; chunk = await body.next()) {
              pending.push(chunk);
              pendingBytes += chunk.length;
              if (pendingBytes >= WRITE_BATCH_BYTES) await flush();
            }
          } catch {
            interrupted = true; // the connection dropped: commit what arrived
          }
          await flush();
          if (position > offset) await writer.sync();
        } finally {
          runningPatch.delete(key);
          await writer.close();
        }
        if (position > offset) await store.setCommitted(record.blobId, position);
        if (interrupted || closed) {
          res.destroy();
          return;
        }
        res.writeHead(204, { 'cache-control': 'no-store', [BLOB_HEADERS.offset]: String(position) });
        res.end();
      });
    } finally {
      body.release();
    }
  }

  async function finalize(req: IncomingMessage, res: ServerResponse, secretText: string): Promise<void> {
    const first = await findUpload(secretText);
    const body = await readJson(req);
    const claimed = body['sha256'];
    if (typeof claimed !== 'string' || !/^[0-9a-f]{64}$/.test(claimed)) throw refuse('BAD_REQUEST', 'sha256 must be 64 hex digits');
    const key = toHex(first.blobId);
    await exclusive(key, async () => {
      const record = await store.getBlob(first.blobId);
      if (record === undefined) throw refuse('NOT_FOUND', 'no such upload');
      if (record.state === 'complete') throw refuse('ALREADY_FINALIZED', 'blob already finalized');
      if (record.committed !== record.size) throw refuse('INCOMPLETE', 'not every byte was uploaded', record.committed);
      await files.truncate(key, record.size);
      const running = hashes.get(key);
      hashes.delete(key);
      const digest = running !== undefined && running.position === record.size ? new Uint8Array(running.hash.digest()) : await files.sha256(key, record.size);
      if (!equalBytes(digest, fromHex(claimed))) {
        await files.remove(key);
        await store.delete(record.blobId);
        logger.warn('blob_digest_mismatch');
        throw refuse('DIGEST_MISMATCH', 'SHA-256 of the stored bytes differs; upload deleted');
      }
      const expiresAt = clock.now() + limits.blobTtlMs;
      await store.complete(record.blobId, digest, expiresAt);
      logger.info('blob_finalized');
      const reply: FinalizeReply = { blobId: key, size: record.size, sha256: toHex(digest), expiresAt };
      sendJson(req, res, 200, reply);
    });
  }

  async function remove(req: IncomingMessage, res: ServerResponse, secretText: string): Promise<void> {
    const first = await findUpload(secretText);
    const key = toHex(first.blobId);
    await exclusive(key, async () => {
      hashes.delete(key);
      await files.remove(key);
      await store.delete(first.blobId);
      logger.info('blob_deleted');
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    });
  }

  // ---- download -----------------------------------------------------------------------------

  async function download(req: IncomingMessage, res: ServerResponse, idHex: string): Promise<void> {
    const record = await store.getBlob(fromHex(idHex));
    if (record === undefined || record.state !== 'complete' || record.expiresAt <= clock.now()) throw refuse('NOT_FOUND', 'no such blob');
    const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, record.size);
    if (range === 'unsatisfiable') throw refuse('RANGE_NOT_SATISFIABLE', 'one byte range inside the blob, please');
    const start = range?.start ?? 0;
    const end = range?.end ?? record.size - 1;
    const length = end - start + 1;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(Math.max(0, length)),
      'accept-ranges': 'bytes',
      'cache-control': 'private, no-store',
      etag: `"${toHex(record.sha256 ?? new Uint8Array())}"`,
    };
    if (range !== undefined) headers['content-range'] = `bytes ${start}-${end}/${record.size}`;
    if (req.method === 'HEAD' || length <= 0) {
      res.writeHead(range ? 206 : 200, headers);
      res.end();
      return;
    }
    // Found before answering, so bytes deleted a moment ago are a 404, not a broken 200.
    const body = await files.read(idHex, start, end);
    if (body === undefined) throw refuse('NOT_FOUND', 'no such blob');
    res.writeHead(range ? 206 : 200, headers);
    await pipeline(body instanceof Readable ? body : Readable.from(body), res).catch(() => res.destroy());
  }

  // ---- routing ------------------------------------------------------------------------------

  async function route(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (rest === 'uploads') {
      if (method === 'POST') return create(req, res);
    } else if (rest.startsWith('uploads/')) {
      const secret = rest.slice('uploads/'.length);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(secret)) throw refuse('NOT_FOUND', 'no such upload');
      if (method === 'HEAD' || method === 'GET') return status(req, res, secret);
      if (method === 'PATCH') return patch(req, res, secret);
      if (method === 'POST') return finalize(req, res, secret);
      if (method === 'DELETE') return remove(req, res, secret);
    } else if (/^[0-9a-f]{32}$/.test(rest)) {
      if (method === 'GET' || method === 'HEAD') return download(req, res, rest);
    } else {
      throw refuse('NOT_FOUND', 'no such resource');
    }
    throw refuse('BAD_REQUEST', 'method not allowed here');
  }

  async function sweep(): Promise<number> {
    let removed = 0;
    const now = clock.now();
    for (const [nonce, until] of nonces) if (until <= now) nonces.delete(nonce);
    for (;;) {
      const batch = await store.expired(now, BLOB_SWEEP_BATCH);
      for (const record of batch) {
        const key = toHex(record.blobId);
        await exclusive(key, async () => {
          hashes.delete(key);
          await files.remove(key);
          await store.delete(record.blobId);
        });
        removed++;
      }
      if (batch.length < BLOB_SWEEP_BATCH) break;
    }
    if (removed > 0) logger.info('blobs_expired', { count: removed });
    return removed;
  }

  return {
    basePath,
    handle(req, res) {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (!path.startsWith(prefix)) return false;
      if (closed) {
        sendError(req, res, 'INTERNAL');
        return true;
      }
      route(req, res, path.slice(prefix.length)).catch((e: unknown) => {
        if (e instanceof BlobError) {
          const extra: Record<string, string> = e.offset !== undefined ? { [BLOB_HEADERS.offset]: String(e.offset) } : {};
          sendError(req, res, e.code, extra);
        } else {
          logger.error('blob_request_failed', { error: e instanceof Error ? e.name : 'unknown' });
          sendError(req, res, 'INTERNAL');
        }
      });
      return true;
    },
    sweep,
    async removeOrphans() {
      return files.removeOrphans(new Set((await store.allIds()).map((id) => toHex(id))));
    },
    async close() {
      closed = true;
      for (const abort of runningPatch.values()) abort();
      await Promise.all([...tails.values()]);
    },
  };
}
