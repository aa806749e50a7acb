/**
 * Numbered migrations of the blob metadata database (blobs.sqlite, beside relay.sqlite). Append
 * only; PRAGMA user_version records the last one applied. A separate file keeps the blob store
 * independent of which RelayStore (SQLite or PostgreSQL) the relay runs.
 */
export interface BlobMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const BLOB_MIGRATIONS: readonly BlobMigration[] = [
  {
    version: 1,
    name: 'blobs',
    sql: `
      -- state 0 = uploading, 1 = complete. size is the declared size (what quota counts).
      CREATE TABLE blobs (
        blob_id BLOB PRIMARY KEY,
        upload_hash BLOB NOT NULL UNIQUE,
        account_id BLOB NOT NULL,
        size INTEGER NOT NULL,
        committed INTEGER NOT NULL,
        state INTEGER NOT NULL,
        sha256 BLOB,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX blobs_by_account ON blobs (account_id, state);
      CREATE INDEX blobs_by_expiry ON blobs (expires_at);
    `,
  },
];

export const LATEST_BLOB_SCHEMA_VERSION = BLOB_MIGRATIONS[BLOB_MIGRATIONS.length - 1]!.version;
