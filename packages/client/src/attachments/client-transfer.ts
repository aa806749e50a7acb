/**
 * The platform-neutral side of PigeonClient.sendAttachmentBlob / downloadAttachmentBytes /
 * downloadAttachmentTo (fetch, a Blob in, bytes or a caller's sink out); the Node entry's file
 * methods are client-transfer.node.ts.
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { downloadAttachmentToMemory, uploadAttachmentBlob, type BlobLike } from './memory-transfer.js';
import { blobBaseUrlFor } from './messages.js';
import type { AttachmentReference } from './reference.js';
import { downloadAttachmentToSink, type AttachmentSink } from './sink-download.js';
import type { TransferOptions } from './transfer.js';
import type { UploadResult } from './upload.js';

/** What an upload needs from the client: the crypto backend, our relay, and a blob-create signer. */
export interface Uploader {
  readonly crypto: CryptoBackend;
  readonly relayUrl: string;
  readonly deviceId: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface SendAttachmentBlobOptions extends TransferOptions {
  /** Shown beside the file. */
  readonly caption?: string;
  /** Default: the Blob's `type`, else guessed from the name. */
  readonly contentType?: string;
  /** Name the recipient sees (default: the File's `name`, else "attachment"). */
  readonly fileName?: string;
  /** Blob endpoint if the relay does not use the default `${wsPath}/blobs`. */
  readonly blobBaseUrl?: string;
  /** Bytes per PATCH (each is held in memory once). Default FETCH_UPLOAD_SEGMENT_BYTES. */
  readonly segmentBytes?: number;
}

export interface DownloadAttachmentToOptions extends TransferOptions {
  /** Bytes per ranged GET. Default FETCH_DOWNLOAD_RANGE_BYTES. */
  readonly rangeBytes?: number;
  /** Fail at once (RELAY_UNREACHABLE) for a blob on another origin; a page passes `[location.origin]`. */
  readonly allowedOrigins?: readonly string[];
}

export interface DownloadAttachmentBytesOptions extends DownloadAttachmentToOptions {
  /** ATTACHMENT_TOO_LARGE above this size. Default MAX_IN_MEMORY_DOWNLOAD_BYTES (256 MiB). */
  readonly maxBytes?: number;
}

export function uploadBlobForMessage(uploader: Uploader, blob: BlobLike, options: SendAttachmentBlobOptions): Promise<UploadResult> {
  return uploadAttachmentBlob({
    ...options,
    crypto: uploader.crypto,
    blob,
    blobBaseUrl: options.blobBaseUrl ?? blobBaseUrlFor(uploader.relayUrl),
    signer: { deviceId: uploader.deviceId, sign: (m) => uploader.sign(m) },
  });
}

const noAttachment = () => new ClientError('UNKNOWN_MESSAGE', 'no attachment with this message id');

export function downloadBytesForMessage(crypto: CryptoBackend, reference: AttachmentReference | undefined, options: DownloadAttachmentBytesOptions): Promise<Uint8Array<ArrayBuffer>> {
  if (reference === undefined) return Promise.reject(noAttachment());
  return downloadAttachmentToMemory({ ...options, crypto, reference });
}

export function downloadForMessageTo(crypto: CryptoBackend, reference: AttachmentReference | undefined, sink: AttachmentSink, options: DownloadAttachmentToOptions): Promise<void> {
  if (reference === undefined) return Promise.reject(noAttachment());
  return downloadAttachmentToSink({ ...options, crypto, reference, sink });
}
