/**
 * Attachments without a file system (browsers; any runtime with fetch): upload from a Blob-like
 * source, download into memory. The resume and verification logic is upload.ts / download.ts's;
 * this adds the Blob source, the in-memory sink and its size limit (sink-download.ts).
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { contentTypeFor } from './content-type.js';
import { FetchBlobClient } from './fetch-blob-client.js';
import type { RandomAccessSource } from './stream.js';
import type { TransferOptions } from './transfer.js';
import { downloadAttachmentToSink, type SinkDownloadOptions } from './sink-download.js';
import { uploadBlob, type UploadResult, type UploadSigner } from './upload.js';

/**
 * Largest attachment downloadAttachmentBytes holds in memory (the whole plaintext is one array,
 * plus one chunk): bigger ones need a file sink (the Node entry's downloadAttachment; in a browser,
 * PigeonClient.downloadAttachmentTo with a file in the origin-private file system).
 */
export const MAX_IN_MEMORY_DOWNLOAD_BYTES = 256 * 1024 * 1024;
/** PATCH segment of a buffered (fetch) upload: the memory held at once, and the progress step. */
export const FETCH_UPLOAD_SEGMENT_BYTES = 2 * 1024 * 1024;

/** What sendAttachmentBlob reads: a DOM Blob or File, or anything shaped like one. */
export interface BlobLike {
  readonly size: number;
  /** MIME type (File/Blob `type`); '' when unknown. */
  readonly type?: string;
  /** File name (File `name`). */
  readonly name?: string;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A Blob never changes; a File that changed on disk fails to read (the browser snapshots its
 * size and date). Either way a resumed upload re-encrypts the same bytes or stops with FILE_ERROR.
 */
export function blobSource(blob: BlobLike): RandomAccessSource {
  return {
    size: blob.size,
    async read(offset, length) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      } catch (cause) {
        throw new ClientError('FILE_ERROR', 'the file could not be read (changed or removed?)', { cause });
      }
      if (bytes.length !== length) throw new ClientError('FILE_CHANGED', 'the file got shorter while uploading');
      return bytes;
    },
  };
}

export interface BlobUploadOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly blob: BlobLike;
  readonly blobBaseUrl: string;
  readonly signer: UploadSigner;
  readonly fileName?: string;
  readonly contentType?: string;
  readonly segmentBytes?: number;
  readonly fetch?: typeof fetch;
}

export function uploadAttachmentBlob(options: BlobUploadOptions): Promise<UploadResult> {
  const { blob } = options;
  const fileName = options.fileName ?? (blob.name !== undefined && blob.name !== '' ? blob.name : 'attachment');
  const contentType = options.contentType ?? (blob.type !== undefined && blob.type !== '' ? blob.type : contentTypeFor(fileName));
  return uploadBlob({
    ...options,
    transport: new FetchBlobClient(options.blobBaseUrl, { idleTimeoutMs: options.idleTimeoutMs, signal: options.signal, fetch: options.fetch }),
    source: blobSource(blob),
    // Without the caller's (aborted) signal: this runs after a cancel.
    discard: (uploadUrl) => new FetchBlobClient(options.blobBaseUrl, { idleTimeoutMs: options.idleTimeoutMs, fetch: options.fetch }).delete(uploadUrl),
    fileName,
    contentType,
    segmentBytes: options.segmentBytes ?? FETCH_UPLOAD_SEGMENT_BYTES,
  });
}

export interface MemoryDownloadOptions extends Omit<SinkDownloadOptions, 'sink'> {
  /** Refuse (ATTACHMENT_TOO_LARGE) above this plaintext size. Default MAX_IN_MEMORY_DOWNLOAD_BYTES. */
  readonly maxBytes?: number;
}

/** The verified plaintext, or a typed error (nothing partial is ever returned). */
export async function downloadAttachmentToMemory(options: MemoryDownloadOptions): Promise<Uint8Array<ArrayBuffer>> {
  const ref = options.reference;
  const max = options.maxBytes ?? MAX_IN_MEMORY_DOWNLOAD_BYTES;
  if (ref.size > max) throw new ClientError('ATTACHMENT_TOO_LARGE', `attachments above ${max} bytes cannot be downloaded into memory`);
  const out = new Uint8Array(ref.size);
  // The decryptor returns chunks in order and never more than ref.size in total.
  await downloadAttachmentToSink({ ...options, sink: { write: (plain, at) => out.set(plain, at) } });
  return out;
}
