/**
 * A download over fetch into any sink (browsers; any runtime with fetch): the in-memory download
 * is one sink, a file in the browser's origin-private file system is another (the web app's
 * disk downloads, for files too big to hold in memory). Resume and verification are
 * download.ts's; the sink sees authenticated plaintext in order and nothing after a failure.
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { downloadBlob } from './download.js';
import { FetchBlobClient } from './fetch-blob-client.js';
import type { AttachmentReference } from './reference.js';
import type { TransferOptions } from './transfer.js';

/** Ranged GET size of a fetch download. */
export const FETCH_DOWNLOAD_RANGE_BYTES = 8 * 1024 * 1024;

/**
 * Where a download's plaintext goes. Each chunk has been authenticated at its position before it
 * is written, but the whole file is verified only at the end: when the download rejects, the
 * caller must throw away what the sink received.
 */
export interface AttachmentSink {
  /** Plaintext in order; `at` is its offset in the file (the sum of the lengths written before). */
  write(plain: Uint8Array, at: number): Promise<void> | void;
}

export interface SinkDownloadOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly reference: AttachmentReference;
  readonly sink: AttachmentSink;
  readonly rangeBytes?: number;
  /**
   * Origins the blob may be fetched from (a page passes its own: the relay that serves it). A
   * reference elsewhere fails at once with RELAY_UNREACHABLE instead of retrying a fetch the
   * page's CSP and CORS would block every time.
   */
  readonly allowedOrigins?: readonly string[];
  readonly fetch?: typeof fetch;
}

/** Resolves once the whole file verified (ATTACHMENT_TAMPERED, RELAY_UNREACHABLE, ... otherwise). */
export async function downloadAttachmentToSink(options: SinkDownloadOptions): Promise<void> {
  const ref = options.reference;
  if (options.allowedOrigins !== undefined && !options.allowedOrigins.includes(new URL(ref.url).origin)) {
    throw new ClientError('RELAY_UNREACHABLE', 'the attachment is stored at a relay this page cannot fetch from');
  }
  const size = await downloadBlob({
    ...options,
    transport: new FetchBlobClient(ref.url, { idleTimeoutMs: options.idleTimeoutMs, signal: options.signal, fetch: options.fetch }),
    rangeBytes: options.rangeBytes ?? FETCH_DOWNLOAD_RANGE_BYTES,
    write: (plain, at) => options.sink.write(plain, at),
  });
  if (size !== ref.size) throw new ClientError('ATTACHMENT_TAMPERED', 'plaintext size differs from the reference');
}
