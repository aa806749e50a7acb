/**
 * HTTP client of the relay's blob endpoints over `fetch` (browsers, Node 20, workers), for the
 * platform-neutral transfers. Differences from the node:http one (blob-client.node.ts):
 * - A PATCH body is buffered: browsers stream request bodies only over HTTP/2, so each segment is
 *   encrypted into memory first and sent whole (keep segments small: FETCH_UPLOAD_SEGMENT_BYTES).
 * - fetch has no idle timeout: a GET is aborted when no bytes arrived for `idleTimeoutMs`; a PATCH
 *   (no upload progress is visible) when it takes longer than `idleTimeoutMs` plus its length at
 *   MIN_UPLOAD_BYTES_PER_SECOND.
 * The relay answers blob requests with `cache-control: no-store`, so nothing lands in an HTTP cache.
 * In a page, every URL must be one the page may fetch: the relay serves the app, so its own blob
 * endpoints are same-origin (no CORS); another relay's blobs are not reachable (docs/attachments.md).
 */
import { BLOB_HEADERS, BlobError, isBlobErrorCode, type CreateUploadReply, type FinalizeReply } from '@pigeon/api';
import { contentRangeMatches, headerInteger, refuseWithRelayDate, TransportError, type BlobTransport, type CreatedUpload } from './blob-transport.js';

/** Default idle timeout, as in the Node client. */
export const FETCH_IDLE_TIMEOUT_MS = 30_000;
/** Slowest upload rate a PATCH is given time for before it counts as stalled. */
export const MIN_UPLOAD_BYTES_PER_SECOND = 16 * 1024;
/** Largest JSON reply read. */
const MAX_REPLY_BYTES = 64 * 1024;

type Fetch = typeof fetch;

/** An AbortController that also follows the caller's signal, with a resettable deadline. */
class Deadline {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => this.controller.abort();
  expired = false;

  constructor(private readonly outer: AbortSignal | undefined) {
    if (outer?.aborted) this.controller.abort();
    outer?.addEventListener('abort', this.onAbort);
  }

  arm(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, ms);
  }

  done(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }

  /** What a failed fetch or read becomes: transport errors are retried by the drivers. */
  wrap(err: unknown): unknown {
    if (err instanceof BlobError || err instanceof TransportError) return err;
    const message = this.expired ? 'connection idle' : err instanceof Error ? err.message : 'transport error';
    return new TransportError(message, { cause: err });
  }
}

async function readLimited(res: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > MAX_REPLY_BYTES) throw new TransportError('reply too large');
  return body;
}

/** Throws the BlobError a refusal carries (or INTERNAL for an unknown one). */
async function refusal(res: Response): Promise<never> {
  const header = res.headers.get(BLOB_HEADERS.error);
  const offset = headerInteger(res.headers.get(BLOB_HEADERS.offset)) ?? undefined;
  await res.arrayBuffer().catch(() => undefined);
  const code = isBlobErrorCode(header) ? header : 'INTERNAL';
  throw new BlobError(code, `relay refused: ${code} (HTTP ${res.status})`, { offset });
}

async function json<T>(res: Response): Promise<T> {
  const body = await readLimited(res);
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch (cause) {
    throw new TransportError('unreadable reply', { cause });
  }
}

async function collect(body: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(length);
  let at = 0;
  for await (const piece of body) {
    if (at + piece.length > length) throw new TransportError('segment longer than declared');
    out.set(piece, at);
    at += piece.length;
  }
  if (at !== length) throw new TransportError('segment shorter than declared');
  return out;
}

export interface FetchBlobClientOptions {
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Injected in tests; default the global fetch. */
  readonly fetch?: Fetch;
}

export class FetchBlobClient implements BlobTransport {
  private readonly idleMs: number;
  private readonly fetchFn: Fetch;

  constructor(
    /** e.g. https://relay.example/pigeon/blobs (only needed to create uploads). */
    readonly baseUrl: string,
    private readonly options: FetchBlobClientOptions = {},
  ) {
    this.idleMs = options.idleTimeoutMs ?? FETCH_IDLE_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** One request with a deadline; `use` reads the response before the deadline is cleared. */
  private async request<T>(url: string, init: RequestInit, timeoutMs: number, use: (res: Response) => Promise<T>): Promise<T> {
    const deadline = new Deadline(this.options.signal);
    deadline.arm(timeoutMs);
    try {
      const res = await this.fetchFn(url, { ...init, credentials: 'omit', redirect: 'error', signal: deadline.controller.signal });
      return await use(res);
    } catch (err) {
      throw deadline.wrap(err);
    } finally {
      deadline.done();
    }
  }

  async create(authorization: string, size: number): Promise<CreatedUpload> {
    const url = this.baseUrl.replace(/\/?$/, '/uploads');
    return this.request(url, { method: 'POST', headers: { [BLOB_HEADERS.authorization]: authorization, 'content-type': 'application/json' }, body: JSON.stringify({ size }) }, this.idleMs, async (res) => {
      if (res.status !== 201) await refuseWithRelayDate(res.headers.get('date'), () => refusal(res));
      const reply = await json<CreateUploadReply>(res);
      return { ...reply, uploadUrl: new URL(reply.uploadPath, url).href, downloadUrl: new URL(reply.downloadPath, url).href };
    });
  }

  async offset(uploadUrl: string): Promise<{ offset: number; size: number }> {
    return this.request(uploadUrl, { method: 'HEAD' }, this.idleMs, async (res) => {
      if (res.status !== 200) await refusal(res);
      const offset = headerInteger(res.headers.get(BLOB_HEADERS.offset));
      const size = headerInteger(res.headers.get(BLOB_HEADERS.length));
      if (offset === null || size === null) throw new TransportError('reply without upload-offset');
      return { offset, size };
    });
  }

  async patch(uploadUrl: string, offset: number, length: number, body: AsyncIterable<Uint8Array>): Promise<number> {
    const bytes = await collect(body, length);
    const timeout = this.idleMs + Math.ceil((length / MIN_UPLOAD_BYTES_PER_SECOND) * 1000);
    const init: RequestInit = {
      method: 'PATCH',
      headers: { [BLOB_HEADERS.offset]: String(offset), 'content-type': 'application/offset+octet-stream' },
      body: bytes,
    };
    return this.request(uploadUrl, init, timeout, async (res) => {
      if (res.status !== 204) await refusal(res);
      const committed = headerInteger(res.headers.get(BLOB_HEADERS.offset));
      if (committed === null) throw new TransportError('reply without upload-offset');
      return committed;
    });
  }

  async finalize(uploadUrl: string, sha256Hex: string): Promise<FinalizeReply> {
    const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sha256: sha256Hex }) };
    return this.request(uploadUrl, init, this.idleMs, async (res) => {
      if (res.status !== 200) await refusal(res);
      return json<FinalizeReply>(res);
    });
  }

  async delete(uploadUrl: string): Promise<void> {
    return this.request(uploadUrl, { method: 'DELETE' }, this.idleMs, async (res) => {
      if (res.status !== 204) await refusal(res);
      await res.arrayBuffer().catch(() => undefined);
    });
  }

  /** The body is read lazily; each read re-arms the idle deadline; stopping early cancels it. */
  async getRange(url: string, from: number, to: number): Promise<AsyncIterable<Uint8Array>> {
    const deadline = new Deadline(this.options.signal);
    deadline.arm(this.idleMs);
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      const res = await this.fetchFn(url, { headers: { range: `bytes=${from}-${to - 1}` }, credentials: 'omit', redirect: 'error', signal: deadline.controller.signal });
      if (res.status !== 206) await refusal(res);
      if (!contentRangeMatches(res.headers.get('content-range'), from, to) || res.body === null) {
        await res.body?.cancel().catch(() => undefined);
        throw new TransportError('unexpected content-range');
      }
      reader = res.body.getReader();
    } catch (err) {
      deadline.done();
      throw deadline.wrap(err);
    }
    const idleMs = this.idleMs;
    return {
      async *[Symbol.asyncIterator]() {
        let finished = false;
        try {
          for (;;) {
            deadline.arm(idleMs);
            let step: Awaited<ReturnType<typeof reader.read>>;
            try {
              step = await reader.read();
            } catch (err) {
              throw deadline.wrap(err);
            }
            if (step.done) {
              finished = true;
              return;
            }
            yield step.value;
          }
        } finally {
          deadline.done();
          if (!finished) await reader.cancel().catch(() => undefined);
        }
      },
    };
  }
}
