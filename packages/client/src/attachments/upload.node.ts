/**
 * Uploads a file as an encrypted, padded attachment blob (docs/attachments.md), streaming: the
 * file is read one chunk at a time, so a 2 GiB file never sits in memory.
 *
 * Resume: when a connection drops (or stalls past the idle timeout) the upload asks the relay
 * for its committed length (HEAD) and continues from there, re-encrypting from the chunk that
 * holds that offset. Re-encryption repeats nonces with the same key, which is only safe on the
 * same plaintext: the file's size and mtime are checked before every resume (FILE_CHANGED).
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { BLOB_CREATE_NONCE_BYTES, BlobError, blobCreateMessage, BLOB_AUTH_SCHEME, MAX_BLOB_CLOCK_SKEW_MS } from '@pigeon/api';
import { toBase64Url, toHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { BlobHttpClient, relayDateOf, type CreatedUpload } from './blob-client.node.js';
import { ChunkCipher } from './chunk-crypto.js';
import { ATTACHMENT_KEY_BYTES, MAX_ATTACHMENT_BYTES, blobSizeFor } from './format.js';
import { contentTypeFor } from './content-type.js';
import type { AttachmentReference } from './reference.js';
import { blobBytes, type RandomAccessSource } from './stream.js';
import { retryDelay, type TransferOptions, type TransferProgress } from './transfer.js';

/** Bytes per PATCH request: the relay acknowledges (fsyncs) at least this often. */
export const UPLOAD_SEGMENT_BYTES = 8 * 1024 * 1024;

export interface UploadSigner {
  /** 16-byte device id of this client's device. */
  readonly deviceId: Uint8Array;
  /** Ed25519 signature by the device signing key. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

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

export interface UploadResult {
  readonly reference: AttachmentReference;
  /** The upload resource (its secret lets the uploader delete the blob). Keep private. */
  readonly uploadUrl: string;
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

async function authorization(crypto: CryptoBackend, signer: UploadSigner, size: number, timestamp: number): Promise<string> {
  const nonce = crypto.randomBytes(BLOB_CREATE_NONCE_BYTES);
  const signature = await signer.sign(blobCreateMessage(signer.deviceId, timestamp, nonce, size));
  return `${BLOB_AUTH_SCHEME} ${toHex(signer.deviceId)}.${timestamp}.${toBase64Url(nonce)}.${toBase64Url(signature)}`;
}

/** Is this failure worth retrying after a pause (a dropped or refused connection, a relay hiccup)? */
export function isTransient(err: unknown): boolean {
  if (err instanceof ClientError) return false;
  if (err instanceof BlobError) return err.code === 'INTERNAL';
  return true;
}

export function blobErrorToClient(err: unknown, what: string): unknown {
  if (err instanceof BlobError) {
    const code = err.code === 'TOO_LARGE' ? 'ATTACHMENT_TOO_LARGE' : 'RELAY_REJECTED';
    return new ClientError(code, `the relay refused ${what}: ${err.code}`, { cause: err });
  }
  return err;
}

export async function uploadAttachmentFile(options: UploadOptions): Promise<UploadResult> {
  const { crypto, signer } = options;
  const http = new BlobHttpClient(options.blobBaseUrl, options.idleTimeoutMs);
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
    const size = stat.size;
    const key = crypto.randomBytes(ATTACHMENT_KEY_BYTES);
    const cipher = await ChunkCipher.create(crypto, key, size);
    const source = fileSource(fh, size);
    const blobSize = blobSizeFor(size);
    const fileName = options.fileName ?? basename(options.filePath);
    let lastDone = 0;
    const progress = (p: Omit<TransferProgress, 'total'>) => {
      lastDone = p.done;
      options.onProgress?.({ ...p, total: blobSize });
    };
    const unchanged = async () => {
      const now = await fh.stat();
      if (now.size !== stat.size || now.mtimeMs !== stat.mtimeMs) throw new ClientError('FILE_CHANGED', 'the file changed while uploading');
    };

    // Retries `fn` on transient failures; any progress resets the budget.
    let failures = 0;
    const attempt = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          if (!isTransient(err) || options.signal?.aborted) throw blobErrorToClient(err, 'the upload');
          failures++;
          if (failures > (options.maxRetries ?? 10)) throw new ClientError('RELAY_UNREACHABLE', 'the relay stopped answering during the upload', { cause: err });
          progress({ phase: 'upload', done: lastDone, retries: failures });
          await retryDelay(failures, options);
        }
      }
    };

    let skew = 0;
    const upload: CreatedUpload = await attempt(async () => {
      try {
        return await http.create(await authorization(crypto, signer, blobSize, Date.now() + skew), blobSize);
      } catch (err) {
        const relayDate = relayDateOf(err);
        // One retry with the relay's clock when ours is off by more than the allowed skew.
        if (err instanceof BlobError && err.code === 'UNAUTHORIZED' && relayDate !== null && skew === 0 && Math.abs(relayDate - Date.now()) > MAX_BLOB_CLOCK_SKEW_MS / 2) {
          skew = relayDate - Date.now();
          return http.create(await authorization(crypto, signer, blobSize, Date.now() + skew), blobSize);
        }
        throw err;
      }
    });

    const hash = createHash('sha256');
    let hashedTo = 0;
    let offset = 0;
    const segment = options.segmentBytes ?? UPLOAD_SEGMENT_BYTES;
    progress({ phase: 'upload', done: 0 });
    while (offset < blobSize) {
      const from = offset;
      const to = Math.min(blobSize, from + segment);
      const next = await attempt(async () => {
        try {
          async function* body(): AsyncGenerator<Uint8Array> {
            let at = from;
            for await (const piece of blobBytes(cipher, source, blobSize, from, to)) {
              // Each blob byte enters the digest once, in order, however often it is re-sent.
              if (at + piece.length > hashedTo) {
                hash.update(piece.subarray(Math.max(0, hashedTo - at)));
                hashedTo = at + piece.length;
              }
              at += piece.length;
              yield piece;
              progress({ phase: 'upload', done: at });
            }
          }
          return await http.patch(upload.uploadUrl, from, to - from, body());
        } catch (err) {
          if (err instanceof BlobError && err.code === 'OFFSET_MISMATCH' && err.offset !== undefined && err.offset <= hashedTo) return err.offset;
          if (!isTransient(err) || options.signal?.aborted) throw err;
          // The connection dropped: ask where the relay got to, then continue from there.
          failures++;
          if (failures > (options.maxRetries ?? 10)) throw new ClientError('RELAY_UNREACHABLE', 'the relay stopped answering during the upload', { cause: err });
          progress({ phase: 'upload', done: lastDone, retries: failures });
          await unchanged();
          await retryDelay(failures, options);
          return (await http.offset(upload.uploadUrl)).offset;
        }
      });
      if (next > offset) failures = 0;
      if (next > hashedTo) throw new ClientError('RELAY_REJECTED', 'the relay claims bytes it was never sent');
      offset = next;
      progress({ phase: 'upload', done: offset });
    }
    await unchanged();
    const sha256 = new Uint8Array(hash.digest());
    await attempt(async () => {
      try {
        const reply = await http.finalize(upload.uploadUrl, toHex(sha256));
        if (reply.size !== blobSize || reply.sha256 !== toHex(sha256)) throw new ClientError('RELAY_REJECTED', 'finalize reply does not match');
      } catch (err) {
        // A finalize whose reply was lost: the blob is already complete.
        if (err instanceof BlobError && err.code === 'ALREADY_FINALIZED') return;
        throw err;
      }
    });
    progress({ phase: 'upload', done: blobSize });
    const reference: AttachmentReference = {
      url: upload.downloadUrl,
      blobSize,
      sha256,
      key,
      size,
      contentType: options.contentType ?? contentTypeFor(fileName),
      fileName,
    };
    return { reference, uploadUrl: upload.uploadUrl };
  } finally {
    await fh.close();
  }
}
