/**
 * Metadata of blobs (attachments) behind one small interface, beside RelayStore; the bytes live
 * behind BlobBytes (bytes.ts). SQLite + files for one node (sqlite-blob-store.ts, files.ts);
 * PostgreSQL records and rows for a cluster (postgres-blob-store.ts).
 *
 * Contract:
 * - resolved writes are committed;
 * - `createUpload` checks the account's concurrent-upload and quota limits and inserts in one
 *   atomic step (two racing creates cannot both squeeze under a limit);
 * - expected refusals are results, never exceptions.
 */

export type BlobState = 'uploading' | 'complete';

export interface BlobRecord {
  readonly blobId: Uint8Array;
  /** SHA-256 of the upload secret (the store never sees the secret itself). */
  readonly uploadHash: Uint8Array;
  readonly accountId: Uint8Array;
  /** Declared size in bytes. */
  readonly size: number;
  /** Bytes durably written (fsynced) so far. */
  readonly committed: number;
  readonly state: BlobState;
  /** SHA-256 of the bytes, once complete. */
  readonly sha256: Uint8Array | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface BlobQuota {
  readonly maxConcurrentUploads: number;
  readonly quotaBytes: number;
}

export type CreateUploadResult = 'created' | 'too_many_uploads' | 'quota_exceeded';

export interface BlobUsage {
  readonly uploads: number;
  readonly bytes: number;
}

export interface BlobStore {
  createUpload(record: BlobRecord, quota: BlobQuota): Promise<CreateUploadResult>;
  getByUploadHash(uploadHash: Uint8Array): Promise<BlobRecord | undefined>;
  getBlob(blobId: Uint8Array): Promise<BlobRecord | undefined>;
  /** Records a new committed length of an unfinished upload. */
  setCommitted(blobId: Uint8Array, committed: number): Promise<void>;
  /** Marks the upload complete with its digest and new expiry. */
  complete(blobId: Uint8Array, sha256: Uint8Array, expiresAt: number): Promise<void>;
  /** Returns whether a record was deleted. */
  delete(blobId: Uint8Array): Promise<boolean>;
  /** Records with expiresAt <= now, at most `limit` (the sweep deletes their files, then them). */
  expired(now: number, limit: number): Promise<BlobRecord[]>;
  usage(accountId: Uint8Array): Promise<BlobUsage>;
  /** Every blob id (startup check for orphan files). */
  allIds(): Promise<Uint8Array[]>;
  close(): Promise<void>;
}
