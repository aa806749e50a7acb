/**
 * The attachment reference: what a message carries so the recipient can fetch, verify and
 * decrypt an attachment. It travels only inside end-to-end encrypted content (content.ts type
 * 'attachment') and holds the key: never log it; toJSON of higher objects must not expose it.
 */
import { Reader, Writer } from '@pigeon/protocol';
import { MAX_BLOB_BYTES } from '@pigeon/api';
import { ClientError } from '../errors.js';
import { MAX_URL_BYTES } from '../limits.js';
import { ATTACHMENT_KEY_BYTES, MAX_ATTACHMENT_BYTES, encryptedSize } from './format.js';

export const MAX_CONTENT_TYPE_BYTES = 128;
export const MAX_FILE_NAME_BYTES = 255;
const REFERENCE_VERSION = 1;

export interface AttachmentReference {
  /** Absolute http(s) URL of the blob at the sender's relay. */
  readonly url: string;
  /** Blob size on the relay (encrypted chunks + padding). */
  readonly blobSize: number;
  /** SHA-256 of the whole blob. */
  readonly sha256: Uint8Array;
  /** The attachment key (32 random bytes). */
  readonly key: Uint8Array;
  /** Plaintext size. */
  readonly size: number;
  readonly contentType: string;
  readonly fileName: string;
}

/** What the app may show without touching the key. */
export interface AttachmentInfo {
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
}

export function checkReference(ref: AttachmentReference): AttachmentReference {
  const bad = (what: string) => new ClientError('BAD_ARGUMENT', `attachment reference: ${what}`);
  if (!/^https?:\/\/[^\s]+$/i.test(ref.url)) throw bad('url must be http(s)');
  if (!Number.isSafeInteger(ref.size) || ref.size < 0 || ref.size > MAX_ATTACHMENT_BYTES) throw bad('bad size');
  if (!Number.isSafeInteger(ref.blobSize) || ref.blobSize < encryptedSize(ref.size) || ref.blobSize > MAX_BLOB_BYTES) throw bad('bad blob size');
  if (ref.sha256.length !== 32 || ref.key.length !== ATTACHMENT_KEY_BYTES) throw bad('bad digest or key length');
  if (/[\u0000-\u001f\u007f]/.test(ref.contentType) || /[\u0000-\u001f\u007f]/.test(ref.fileName)) throw bad('control characters');
  return ref;
}

export function writeReference(w: Writer, ref: AttachmentReference): Writer {
  checkReference(ref);
  return w
    .string(ref.url, MAX_URL_BYTES)
    .u64(ref.blobSize)
    .fixed(ref.sha256, 32)
    .fixed(ref.key, ATTACHMENT_KEY_BYTES)
    .u64(ref.size)
    .string(ref.contentType, MAX_CONTENT_TYPE_BYTES)
    .string(ref.fileName, MAX_FILE_NAME_BYTES);
}

export function readReference(r: Reader): AttachmentReference {
  return checkReference({
    url: r.string(MAX_URL_BYTES),
    blobSize: r.u64(),
    sha256: r.fixed(32),
    key: r.fixed(ATTACHMENT_KEY_BYTES),
    size: r.u64(),
    contentType: r.string(MAX_CONTENT_TYPE_BYTES),
    fileName: r.string(MAX_FILE_NAME_BYTES),
  });
}

/** Standalone encoding (version byte + fields), for keeping a reference in the local store. */
export function encodeReference(ref: AttachmentReference): Uint8Array {
  return writeReference(new Writer(256).u8(REFERENCE_VERSION), ref).finish();
}

export function decodeReference(bytes: Uint8Array): AttachmentReference {
  try {
    const r = new Reader(bytes);
    if (r.u8() !== REFERENCE_VERSION) throw new ClientError('BAD_ARGUMENT', 'unknown attachment reference version');
    const ref = readReference(r);
    r.end();
    return ref;
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'malformed attachment reference', { cause });
  }
}

/** A file name safe to create in a directory: no path, no control characters, not empty. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').replace(/^\.+/, '').trim();
  return cleaned.length > 0 ? cleaned.slice(0, 200) : 'attachment';
}
