/**
 * The one download driver (docs/attachments.md, "Receiving"), whatever the sink (a `.part` file
 * in Node, memory in a browser) and the HTTP client: ranged GETs; every chunk authenticates at its
 * position before its plaintext reaches the sink; a dropped connection resumes at the next blob
 * byte (the decryptor keeps the part of a chunk it has); at the end every chunk must be there, the
 * padding zero and the SHA-256 equal to the reference's (ATTACHMENT_TAMPERED otherwise).
 * The sink sees plaintext in order; the caller decides what a failure leaves behind.
 */
import { createSha256 } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import type { BlobTransport } from './blob-transport.js';
import { ChunkCipher } from './chunk-crypto.js';
import type { AttachmentReference } from './reference.js';
import { BlobDecryptor, type IncrementalHash } from './stream.js';
import { retryDelay, throwIfCancelled, type TransferOptions } from './transfer.js';
import { blobErrorToClient, isTransient } from './upload.js';

/** Bytes asked for per GET: a long transfer is several ranged requests. */
export const DOWNLOAD_RANGE_BYTES = 16 * 1024 * 1024;

export interface DownloadBlobOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly transport: Pick<BlobTransport, 'getRange'>;
  readonly reference: AttachmentReference;
  /** Receives authenticated plaintext, in order; `at` is its offset in the file. */
  write(plain: Uint8Array, at: number): Promise<void> | void;
  readonly rangeBytes?: number;
  readonly createHash?: () => IncrementalHash;
}

/**
 * A sink that failed (disk full, file gone) ends the download with its own error. It must never
 * count as a dropped connection: the decryptor has moved past the chunk that was not written, so
 * a retry would go on writing the next chunks at the wrong offset of a file that then verifies.
 */
class SinkFailure {
  constructor(readonly cause: unknown) {}
}

async function writeOrStop(options: DownloadBlobOptions, plain: Uint8Array, at: number): Promise<void> {
  try {
    await options.write(plain, at);
  } catch (err) {
    throw new SinkFailure(err);
  }
}

/** Resolves with the plaintext size once everything verified. */
export async function downloadBlob(options: DownloadBlobOptions): Promise<number> {
  const { reference: ref, transport } = options;
  const cipher = await ChunkCipher.create(options.crypto, ref.key, ref.size);
  const decryptor = new BlobDecryptor(cipher, ref.blobSize, (options.createHash ?? createSha256)());
  let written = 0;
  let failures = 0;
  const step = options.rangeBytes ?? DOWNLOAD_RANGE_BYTES;
  const progress = (retries?: number) =>
    options.onProgress?.({ phase: 'download', done: decryptor.received, total: ref.blobSize, ...(retries ? { retries } : {}) });
  progress();
  while (decryptor.received < ref.blobSize) {
    throwIfCancelled(options.signal);
    const from = decryptor.received;
    const to = Math.min(ref.blobSize, from + step);
    try {
      const body = await transport.getRange(ref.url, from, to);
      for await (const bytes of body) {
        for (const plain of await decryptor.push(bytes)) {
          await writeOrStop(options, plain, written);
          written += plain.length;
        }
        failures = 0;
        progress();
      }
      if (decryptor.received < to) throw new Error('range ended early');
    } catch (err) {
      if (err instanceof SinkFailure) throw err.cause;
      throwIfCancelled(options.signal);
      if (!isTransient(err)) throw blobErrorToClient(err, 'the download');
      failures++;
      if (failures > (options.maxRetries ?? 10)) throw new ClientError('RELAY_UNREACHABLE', 'the relay stopped answering during the download', { cause: err });
      progress(failures);
      await retryDelay(failures, options);
    }
  }
  decryptor.finish(ref.sha256);
  return written;
}
