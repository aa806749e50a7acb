/**
 * Uploads a file as an encrypted, padded attachment blob (docs/attachments.md), streaming: the
 * file is read one batch of chunks at a time, so a 2 GiB file never sits in memory. The resume
 * and verification logic is upload.ts's; this file adds the file source, the FILE_CHANGED check
 * (size and mtime, before every resume) and node:http with streamed PATCH bodies.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ClientError } from '../errors.js';
import { BlobHttpClient } from './blob-client.node.js';
import { contentTypeFor } from './content-type.js';
import { MAX_ATTACHMENT_BYTES } from './format.js';
import type { RandomAccessSource } from './stream.js';
import type { TransferOptions } from './transfer.js';
import { uploadBlob, type UploadResult, type UploadSigner } from './upload.js';
import type { CryptoBackend } from '@pigeon/crypto';

export { UPLOAD_SEGMENT_BYTES, blobErrorToClient, isTransient, type UploadResult, type UploadSigner } from './upload.js';

export interface UploadOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly filePath: string;
  /** e.g. http://relay.example/pigeon/blobs */
  readonly blobBaseUrl: string;
  readonly signer: UploadSigner;
  readonly contentType?: string;
  readonly fileName?: string;
  readonly segmentBytes?: number;
}

function fileSource(fh: FileHandle, size: number): RandomAccessSource {
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) throw new ClientError('FILE_CHANGED', 'the file got shorter while uploading');
        got += bytesRead;
      }
      return buf;
    },
  };
}

export async function uploadAttachmentFile(options: UploadOptions): Promise<UploadResult> {
  let fh: FileHandle;
  try {
    fh = await open(options.filePath, 'r');
  } catch (cause) {
    throw new ClientError('FILE_ERROR', `cannot open ${options.filePath}`, { cause });
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new ClientError('FILE_ERROR', 'not a regular file');
    if (stat.size > MAX_ATTACHMENT_BYTES) throw new ClientError('ATTACHMENT_TOO_LARGE', `attachments are limited to ${MAX_ATTACHMENT_BYTES} bytes`);
    const fileName = options.fileName ?? basename(options.filePath);
    const transport = new BlobHttpClient(options.blobBaseUrl, options.idleTimeoutMs);
    return await uploadBlob({
      ...options,
      transport,
      // node:http requests do not follow the signal, so the same client can delete after a cancel.
      discard: (uploadUrl) => transport.delete(uploadUrl),
      source: fileSource(fh, stat.size),
      fileName,
      contentType: options.contentType ?? contentTypeFor(fileName),
      unchanged: async () => {
        const now = await fh.stat();
        if (now.size !== stat.size || now.mtimeMs !== stat.mtimeMs) throw new ClientError('FILE_CHANGED', 'the file changed while uploading');
      },
    });
  } finally {
    await fh.close();
  }
}
