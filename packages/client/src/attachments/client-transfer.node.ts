/**
 * The Node side of PigeonClient.sendAttachment / downloadAttachment: file streaming over HTTP
 * to and from the relay's blob store. Kept out of index.node.ts so the entry stays small.
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { downloadAttachmentFile } from './download.node.js';
import { blobBaseUrlFor } from './messages.js';
import type { AttachmentReference } from './reference.js';
import type { TransferOptions } from './transfer.js';
import type { Uploader } from './client-transfer.js';
import { uploadAttachmentFile, type UploadResult } from './upload.node.js';

export interface SendAttachmentOptions extends TransferOptions {
  /** Shown beside the file. */
  readonly caption?: string;
  readonly contentType?: string;
  /** Name the recipient sees (default: the file's base name). */
  readonly fileName?: string;
  /** Blob endpoint if the relay does not use the default `${wsPath}/blobs`. */
  readonly blobBaseUrl?: string;
}

export interface DownloadAttachmentOptions extends TransferOptions {
  /** Bytes per ranged GET (default DOWNLOAD_RANGE_BYTES). */
  readonly rangeBytes?: number;
}

export type { Uploader } from './client-transfer.js';

export function uploadForMessage(uploader: Uploader, filePath: string, options: SendAttachmentOptions): Promise<UploadResult> {
  return uploadAttachmentFile({
    ...options,
    crypto: uploader.crypto,
    filePath,
    blobBaseUrl: options.blobBaseUrl ?? blobBaseUrlFor(uploader.relayUrl),
    signer: { deviceId: uploader.deviceId, sign: (m) => uploader.sign(m) },
  });
}

export function downloadForMessage(
  crypto: CryptoBackend,
  reference: AttachmentReference | undefined,
  destPath: string,
  options: DownloadAttachmentOptions,
): Promise<{ path: string; size: number }> {
  if (reference === undefined) throw new ClientError('UNKNOWN_MESSAGE', 'no attachment with this message id');
  return downloadAttachmentFile({ ...options, crypto, reference, destPath });
}
