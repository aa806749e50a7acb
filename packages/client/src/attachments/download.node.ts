/**
 * Downloads an attachment into a file: download.ts verifies; this writes each authenticated
 * chunk's plaintext to `<dest>.part`, fsyncs, and renames it to `<dest>` only after the whole blob
 * verified. Any failure deletes the partial file. Memory use is one chunk plus socket buffers.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { ClientError } from '../errors.js';
import { getRange } from './blob-client.node.js';
import { downloadBlob } from './download.js';
import type { AttachmentReference } from './reference.js';
import type { TransferOptions } from './transfer.js';
import type { CryptoBackend } from '@pigeon/crypto';

export { DOWNLOAD_RANGE_BYTES } from './download.js';

export interface DownloadOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly reference: AttachmentReference;
  readonly destPath: string;
  readonly rangeBytes?: number;
}

export async function downloadAttachmentFile(options: DownloadOptions): Promise<{ path: string; size: number }> {
  const partPath = `${options.destPath}.part`;
  let fh: FileHandle;
  try {
    fh = await open(partPath, 'w', 0o600);
  } catch (cause) {
    throw new ClientError('FILE_ERROR', `cannot create ${partPath}`, { cause });
  }
  let ok = false;
  let size: number;
  try {
    size = await downloadBlob({
      ...options,
      transport: { getRange: (url, from, to) => getRange(url, from, to, options.idleTimeoutMs) },
      write: async (plain, position) => {
        let at = 0;
        while (at < plain.length) at += (await fh.write(plain, at, plain.length - at, position + at)).bytesWritten;
      },
    });
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await rm(partPath, { force: true });
  }
  await rename(partPath, options.destPath);
  return { path: options.destPath, size };
}
