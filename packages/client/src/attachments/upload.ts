/**
 * The one upload driver (docs/attachments.md, "Sending"), whatever the source (a file in Node, a
 * Blob in a browser) and the HTTP client (node:http or fetch): encrypt and pad from any offset,
 * PATCH in segments, resume after a dropped connection from the relay's committed offset (HEAD),
 * hash every blob byte exactly once, and have the relay check the SHA-256 at finalize.
 *
 * Resume re-encrypts from the chunk that holds the committed offset, repeating nonces under the
 * same key: only safe on the same plaintext, so the caller's `unchanged()` is asked before every
 * resume and before finalize (FILE_CHANGED).
 */
import { BLOB_AUTH_SCHEME, BLOB_CREATE_NONCE_BYTES, BlobError, MAX_BLOB_CLOCK_SKEW_MS, blobCreateMessage } from '@pigeon/api';
import { createSha256, toBase64Url, toHex } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { relayDateOf, type BlobTransport, type CreatedUpload } from './blob-transport.js';
import { ChunkCipher } from './chunk-crypto.js';
import { ATTACHMENT_KEY_BYTES, MAX_ATTACHMENT_BYTES, blobSizeFor } from './format.js';
import type { AttachmentReference } from './reference.js';
import { blobBytes, type IncrementalHash, type RandomAccessSource } from './stream.js';
import { retryDelay, throwIfCancelled, type TransferOptions, type TransferProgress } from './transfer.js';

/** Bytes per PATCH request with a streamed body (node:http): the relay fsyncs at least this often. */
export const UPLOAD_SEGMENT_BYTES = 8 * 1024 * 1024;

export interface UploadSigner {
  /** 16-byte device id of this client's device. */
  readonly deviceId: Uint8Array;
  /** Ed25519 signature by the device signing key. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface UploadResult {
  readonly reference: AttachmentReference;
  /** The upload resource (its secret lets the uploader delete the blob). Keep private. */
  readonly uploadUrl: string;
}

export interface UploadBlobOptions extends TransferOptions {
  readonly crypto: CryptoBackend;
  readonly transport: BlobTransport;
  readonly source: RandomAccessSource;
  readonly signer: UploadSigner;
  readonly fileName: string;
  readonly contentType: string;
  readonly segmentBytes?: number;
  /** Throws FILE_CHANGED if the source changed since the upload began. */
  readonly unchanged?: () => Promise<void>;
  /** Incremental SHA-256 (default: @pigeon/crypto's, node:crypto in Node, noble elsewhere). */
  readonly createHash?: () => IncrementalHash;
  /**
   * Deletes the unfinished upload after a cancel. Given by the caller because `transport` follows
   * the aborted signal and could not send the DELETE.
   */
  readonly discard?: (uploadUrl: string) => Promise<void>;
}

/** The `authorization` of a create request: the device signs (deviceId, time, nonce, size). */
export async function blobAuthorization(crypto: CryptoBackend, signer: UploadSigner, size: number, timestamp: number): Promise<string> {
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

export async function uploadBlob(options: UploadBlobOptions): Promise<UploadResult> {
  const { crypto, signer, source, transport } = options;
  const size = source.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new ClientError('BAD_ARGUMENT', 'bad source size');
  if (size > MAX_ATTACHMENT_BYTES) throw new ClientError('ATTACHMENT_TOO_LARGE', `attachments are limited to ${MAX_ATTACHMENT_BYTES} bytes`);
  const key = crypto.randomBytes(ATTACHMENT_KEY_BYTES);
  const cipher = await ChunkCipher.create(crypto, key, size);
  const blobSize = blobSizeFor(size);
  const unchanged = options.unchanged ?? (async () => undefined);
  let lastDone = 0;
  const progress = (p: Omit<TransferProgress, 'total'>) => {
    lastDone = p.done;
    options.onProgress?.({ ...p, total: blobSize });
  };
  const giveUp = (err: unknown) => new ClientError('RELAY_UNREACHABLE', 'the relay stopped answering during the upload', { cause: err });

  // Retries `fn` on transient failures; any progress resets the budget.
  let failures = 0;
  const attempt = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        throwIfCancelled(options.signal);
        if (!isTransient(err)) throw blobErrorToClient(err, 'the upload');
        failures++;
        if (failures > (options.maxRetries ?? 10)) throw giveUp(err);
        progress({ phase: 'upload', done: lastDone, retries: failures });
        await retryDelay(failures, options);
      }
    }
  };

  let skew = 0;
  const upload: CreatedUpload = await attempt(async () => {
    try {
      return await transport.create(await blobAuthorization(crypto, signer, blobSize, Date.now() + skew), blobSize);
    } catch (err) {
      const relayDate = relayDateOf(err);
      // One retry with the relay's clock when ours is off by more than the allowed skew.
      if (err instanceof BlobError && err.code === 'UNAUTHORIZED' && relayDate !== null && skew === 0 && Math.abs(relayDate - Date.now()) > MAX_BLOB_CLOCK_SKEW_MS / 2) {
        skew = relayDate - Date.now();
        return transport.create(await blobAuthorization(crypto, signer, blobSize, Date.now() + skew), blobSize);
      }
      throw err;
    }
  });

  let sha256: Uint8Array;
  try {
    const hash = (options.createHash ?? createSha256)();
    let hashedTo = 0;
    let offset = 0;
    const segment = options.segmentBytes ?? UPLOAD_SEGMENT_BYTES;
    progress({ phase: 'upload', done: 0 });
    while (offset < blobSize) {
      throwIfCancelled(options.signal);
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
          return await transport.patch(upload.uploadUrl, from, to - from, body());
        } catch (err) {
          if (err instanceof BlobError && err.code === 'OFFSET_MISMATCH' && err.offset !== undefined && err.offset <= hashedTo) return err.offset;
          throwIfCancelled(options.signal);
          if (!isTransient(err)) throw err;
          // The connection dropped: ask where the relay got to, then continue from there.
          failures++;
          if (failures > (options.maxRetries ?? 10)) throw giveUp(err);
          progress({ phase: 'upload', done: lastDone, retries: failures });
          await unchanged();
          await retryDelay(failures, options);
          return (await transport.offset(upload.uploadUrl)).offset;
        }
      });
      if (next > offset) failures = 0;
      if (next > hashedTo) throw new ClientError('RELAY_REJECTED', 'the relay claims bytes it was never sent');
      offset = next;
      progress({ phase: 'upload', done: offset });
    }
    await unchanged();
    sha256 = hash.digest();
    await attempt(async () => {
      try {
        const reply = await transport.finalize(upload.uploadUrl, toHex(sha256));
        if (reply.size !== blobSize || reply.sha256 !== toHex(sha256)) throw new ClientError('RELAY_REJECTED', 'finalize reply does not match');
      } catch (err) {
        // A finalize whose reply was lost: the blob is already complete.
        if (err instanceof BlobError && err.code === 'ALREADY_FINALIZED') return;
        throw err;
      }
    });
  } catch (err) {
    // A cancelled upload would hold its space and an unfinished-upload slot on the relay until
    // it expires: delete it (best effort; the relay's expiry covers a delete that fails).
    if (err instanceof ClientError && err.code === 'CANCELLED') await options.discard?.(upload.uploadUrl).catch(() => undefined);
    throw err;
  }
  progress({ phase: 'upload', done: blobSize });
  const reference: AttachmentReference = {
    url: upload.downloadUrl,
    blobSize,
    sha256,
    key,
    size,
    contentType: options.contentType,
    fileName: options.fileName,
  };
  return { reference, uploadUrl: upload.uploadUrl };
}
