/**
 * Downloads an attachment blob with ranged GETs, verifying as it goes (docs/attachments.md):
 * every chunk authenticates at its position before its plaintext is written; the whole blob's
 * SHA-256 and zero padding are checked at the end, and only then does `<dest>.part` become
 * `<dest>`. A dropped connection resumes at the next blob byte (the decryptor keeps the part of
 * the chunk it has); a tampered blob deletes the partial file and throws ATTACHMENT_TAMPERED.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { ClientError } from '../errors.js';
import { getRange } from './blob-client.node.js';
import { ChunkCipher } from './chunk-crypto.js';
import type { AttachmentReference } from './reference.js';
import { BlobDecryptor } from './stream.js';
import { retryDelay, type TransferOptions } from './transfer.js';
import { blobErrorToClient, isTransient } from './upload.node.js';
import type { CryptoBackend } from '@pigeon/crypto';

/** Bytes asked for per GET: a long transfer is several ranged requests. */
export const DOWNLOAD_RANGE_BYTES = 16 * 1024 * 1024;

export interface DownloadOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly reference: AttachmentReference;
  readonly destPath: string;
  readonly rangeBytes?: number;
}

export async function downloadAttachmentFile(options: DownloadOptions): Promise<{ path: string; size: number }> {
  const { reference: ref } = options;
  const cipher = await ChunkCipher.create(options.crypto, ref.key, ref.size);
  const hash = createHash('sha256');
  const decryptor = new BlobDecryptor(cipher, ref.blobSize, { update: (b) => hash.update(b), digest: () => new Uint8Array(hash.digest()) });
  const partPath = `${options.destPath}.part`;
  let fh: FileHandle;
  try {
    fh = await open(partPath, 'w', 0o600);
  } catch (cause) {
    throw new ClientError('FILE_ERROR', `cannot create ${partPath}`, { cause });
  }
  let written = 0;
  let failures = 0;
  const step = options.rangeBytes ?? DOWNLOAD_RANGE_BYTES;
  const progress = (retries?: number) =>
    options.onProgress?.({ phase: 'download', done: decryptor.received, total: ref.blobSize, ...(retries ? { retries } : {}) });
  let ok = false;
  try {
    progress();
    while (decryptor.received < ref.blobSize) {
      const from = decryptor.received;
      const to = Math.min(ref.blobSize, from + step);
      try {
        const res = await getRange(ref.url, from, to, options.idleTimeoutMs);
        for await (const chunk of res) {
          for (const plain of await decryptor.push(chunk as Buffer)) {
            let at = 0;
            while (at < plain.length) at += (await fh.write(plain, at, plain.length - at, written + at)).bytesWritten;
            written += plain.length;
          }
          failures = 0;
          progress();
        }
        if (decryptor.received < to) throw new Error('range ended early');
      } catch (err) {
        if (!isTransient(err) || options.signal?.aborted) throw blobErrorToClient(err, 'the download');
        failures++;
        if (failures > (options.maxRetries ?? 10)) throw new ClientError('RELAY_UNREACHABLE', 'the relay stopped answering during the download', { cause: err });
        progress(failures);
        await retryDelay(failures, options);
      }
    }
    decryptor.finish(ref.sha256);
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await rm(partPath, { force: true });
  }
  await rename(partPath, options.destPath);
  return { path: options.destPath, size: written };
}
