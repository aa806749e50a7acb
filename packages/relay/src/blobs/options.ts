/**
 * Blob store limits and options (docs/relay-api.md, "Blobs"). All configurable; every one is
 * covered by test/blobs*.test.ts.
 */
import { MAX_BLOB_BYTES } from '@pigeon/api';
import { RelayServerError } from '../errors.js';

export interface BlobLimits {
  /** Largest declared blob size (<= MAX_BLOB_BYTES, the wire bound). */
  readonly maxBlobBytes: number;
  /** Unfinished uploads one account may have at once; beyond -> TOO_MANY_UPLOADS. */
  readonly maxConcurrentUploadsPerAccount: number;
  /** Declared bytes (unfinished + finished, unexpired) one account may hold; beyond -> QUOTA_EXCEEDED. */
  readonly quotaBytesPerAccount: number;
  /** A finished blob is deleted this long after it was finalized. */
  readonly blobTtlMs: number;
  /** An unfinished upload is deleted this long after it was created. */
  readonly uploadTtlMs: number;
  /** Create-request nonces remembered against replay (bounded memory). */
  readonly maxRememberedNonces: number;
}

export const DEFAULT_BLOB_LIMITS: BlobLimits = {
  maxBlobBytes: MAX_BLOB_BYTES,
  maxConcurrentUploadsPerAccount: 8,
  quotaBytesPerAccount: 10 * 1024 * 1024 * 1024,
  blobTtlMs: 30 * 24 * 60 * 60 * 1000,
  uploadTtlMs: 24 * 60 * 60 * 1000,
  maxRememberedNonces: 100_000,
};

export interface BlobOptions {
  /**
   * URL path prefix of the blob endpoints. Default `${wsPath}/blobs`, so a relay with a secret
   * WebSocket path hides its blobs too; everything else stays the ordinary website.
   */
  readonly path?: string;
  readonly limits?: Partial<BlobLimits>;
}

export function resolveBlobLimits(partial: Partial<BlobLimits> | undefined): BlobLimits {
  const limits: BlobLimits = { ...DEFAULT_BLOB_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) throw new RelayServerError('BAD_OPTION', `${name} must be a positive integer`);
  }
  if (limits.maxBlobBytes > MAX_BLOB_BYTES) throw new RelayServerError('BAD_OPTION', `maxBlobBytes must be <= ${MAX_BLOB_BYTES}`);
  return limits;
}

export function validateBlobPath(path: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~\-]$/.test(path)) throw new RelayServerError('BAD_OPTION', 'blob path must be an absolute URL path without a trailing slash');
  return path;
}
