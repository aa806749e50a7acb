/**
 * HTTP client of the relay's blob endpoints (docs/relay-api.md, "Blobs") on node:http(s), with
 * streamed request bodies (a PATCH segment is encrypted as it is sent, never buffered whole).
 * Refusals come back as BlobError (its code from the reply); anything else (reset, timeout,
 * refused connection) is a transport error the drivers retry. The fetch-based one for browsers
 * is fetch-blob-client.ts; both implement BlobTransport.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BLOB_HEADERS, BlobError, isBlobErrorCode, type CreateUploadReply, type FinalizeReply } from '@pigeon/api';
import { contentRangeMatches, refuseWithRelayDate, TransportError, type BlobTransport, type CreatedUpload } from './blob-transport.js';

export { TransportError, relayDateOf, type CreatedUpload } from './blob-transport.js';

/** A connection that moves no byte for this long is dropped (and the transfer resumed). */
export const BLOB_IDLE_TIMEOUT_MS = 30_000;
/** Largest JSON reply read into memory. */
const MAX_REPLY_BYTES = 64 * 1024;

/** Resolves on 'drain' or 'close', whichever comes first, removing both listeners. */
function drainOrClose(req: { once(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown }): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.once('drain', done);
    req.once('close', done);
  });
}

interface Sent {
  readonly res: IncomingMessage;
}

function send(url: URL, method: string, headers: OutgoingHttpHeaders, body: Uint8Array | AsyncIterable<Uint8Array> | null, idleMs: number): Promise<Sent> {
  return new Promise<Sent>((resolve, reject) => {
    const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = fn(url, { method, headers });
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err instanceof BlobError ? err : new TransportError(err instanceof Error ? err.message : 'transport error', { cause: err }));
    };
    req.setTimeout(idleMs, () => fail(new TransportError('connection idle')));
    req.on('error', fail);
    req.on('response', (res) => {
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      resolve({ res });
    });
    if (body === null) {
      req.end();
    } else if (body instanceof Uint8Array) {
      req.end(body);
    } else {
      void (async () => {
        try {
          for await (const piece of body) {
            if (settled) return;
            if (!req.write(piece)) await drainOrClose(req);
          }
          req.end();
        } catch (err) {
          fail(err);
        }
      })();
    }
  });
}

async function readBody(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > MAX_REPLY_BYTES) throw new TransportError('reply too large');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Throws the BlobError a refusal carries (or INTERNAL for an unknown one). */
async function refusal(res: IncomingMessage): Promise<never> {
  const header = res.headers[BLOB_HEADERS.error];
  const offsetHeader = res.headers[BLOB_HEADERS.offset];
  const offset = typeof offsetHeader === 'string' && /^\d+$/.test(offsetHeader) ? Number(offsetHeader) : undefined;
  await readBody(res).catch(() => Buffer.alloc(0));
  const code = isBlobErrorCode(header) ? header : 'INTERNAL';
  throw new BlobError(code, `relay refused: ${code} (HTTP ${res.statusCode})`, { offset });
}

async function json<T>(res: IncomingMessage): Promise<T> {
  const body = await readBody(res);
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (cause) {
    throw new TransportError('unreadable reply', { cause });
  }
}

export class BlobHttpClient implements BlobTransport {
  constructor(
    /** e.g. http://127.0.0.1:7878/pigeon/blobs */
    readonly baseUrl: string,
    readonly idleTimeoutMs = BLOB_IDLE_TIMEOUT_MS,
  ) {}

  private abs(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  /** POST {base}/uploads. */
  async create(authorization: string, size: number): Promise<CreatedUpload> {
    const body = Buffer.from(JSON.stringify({ size }), 'utf8');
    const { res } = await send(this.abs(this.baseUrl.replace(/\/?$/, '/uploads')), 'POST', {
      [BLOB_HEADERS.authorization]: authorization,
      'content-type': 'application/json',
      'content-length': String(body.length),
    }, body, this.idleTimeoutMs);
    if (res.statusCode !== 201) await refuseWithRelayDate(res.headers.date, () => refusal(res));
    const reply = await json<CreateUploadReply>(res);
    return { ...reply, uploadUrl: this.abs(reply.uploadPath).href, downloadUrl: this.abs(reply.downloadPath).href };
  }

  /** HEAD {upload}: the committed length. */
  async offset(uploadUrl: string): Promise<{ offset: number; size: number }> {
    const { res } = await send(new URL(uploadUrl), 'HEAD', {}, null, this.idleTimeoutMs);
    if (res.statusCode !== 200) await refusal(res);
    res.resume();
    const offset = Number(res.headers[BLOB_HEADERS.offset]);
    const size = Number(res.headers[BLOB_HEADERS.length]);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size)) throw new TransportError('reply without upload-offset');
    return { offset, size };
  }

  /** PATCH {upload} with `length` bytes at `offset`; resolves with the new committed length. */
  async patch(uploadUrl: string, offset: number, length: number, body: AsyncIterable<Uint8Array>): Promise<number> {
    const { res } = await send(new URL(uploadUrl), 'PATCH', {
      [BLOB_HEADERS.offset]: String(offset),
      'content-type': 'application/offset+octet-stream',
      'content-length': String(length),
    }, body, this.idleTimeoutMs);
    if (res.statusCode !== 204) await refusal(res);
    res.resume();
    const committed = Number(res.headers[BLOB_HEADERS.offset]);
    if (!Number.isSafeInteger(committed)) throw new TransportError('reply without upload-offset');
    return committed;
  }

  async finalize(uploadUrl: string, sha256Hex: string): Promise<FinalizeReply> {
    const body = Buffer.from(JSON.stringify({ sha256: sha256Hex }), 'utf8');
    const { res } = await send(new URL(uploadUrl), 'POST', { 'content-type': 'application/json', 'content-length': String(body.length) }, body, this.idleTimeoutMs);
    if (res.statusCode !== 200) await refusal(res);
    return json<FinalizeReply>(res);
  }

  async delete(uploadUrl: string): Promise<void> {
    const { res } = await send(new URL(uploadUrl), 'DELETE', {}, null, this.idleTimeoutMs);
    if (res.statusCode !== 204) await refusal(res);
    res.resume();
  }

  getRange(url: string, from: number, to: number): Promise<IncomingMessage> {
    return getRange(url, from, to, this.idleTimeoutMs);
  }
}

/**
 * GET a byte range [from, to) of a blob URL; resolves with the response once its status and
 * Content-Range check out (the body is the caller's to read).
 */
export async function getRange(url: string, from: number, to: number, idleMs = BLOB_IDLE_TIMEOUT_MS): Promise<IncomingMessage> {
  const { res } = await send(new URL(url), 'GET', { range: `bytes=${from}-${to - 1}` }, null, idleMs);
  if (res.statusCode !== 206) await refusal(res);
  if (!contentRangeMatches(res.headers['content-range'], from, to)) {
    res.destroy();
    throw new TransportError('unexpected content-range');
  }
  res.setTimeout(idleMs, () => res.destroy(new TransportError('connection idle')));
  return res;
}
