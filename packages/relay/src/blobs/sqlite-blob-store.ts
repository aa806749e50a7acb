/**
 * SQLite implementation of BlobStore (better-sqlite3, WAL, synchronous=FULL by default) in
 * `<dataDir>/blobs.sqlite`, or in memory when there is no data dir (tests). Writes are few
 * (one per create, committed chunk, finalize, delete), so each is its own transaction.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RelayServerError } from '../errors.js';
import { BLOB_MIGRATIONS, LATEST_BLOB_SCHEMA_VERSION } from './sqlite-blob-migrations.js';
import type { BlobQuota, BlobRecord, BlobStore, BlobUsage, CreateUploadResult } from './types.js';

export const BLOB_SQLITE_FILE_NAME = 'blobs.sqlite';

interface BlobRow {
  blob_id: Buffer;
  upload_hash: Buffer;
  account_id: Buffer;
  size: number;
  committed: number;
  state: number;
  sha256: Buffer | null;
  created_at: number;
  expires_at: number;
}

const STATE_UPLOADING = 0;
const STATE_COMPLETE = 1;

const toRecord = (r: BlobRow): BlobRecord => ({
  blobId: r.blob_id,
  uploadHash: r.upload_hash,
  accountId: r.account_id,
  size: r.size,
  committed: r.committed,
  state: r.state === STATE_COMPLETE ? 'complete' : 'uploading',
  sha256: r.sha256,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export function migrateBlobSqlite(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LATEST_BLOB_SCHEMA_VERSION) {
    throw new RelayServerError('SCHEMA_TOO_NEW', `blob database schema ${current} is newer than this relay (${LATEST_BLOB_SCHEMA_VERSION})`);
  }
  for (const m of BLOB_MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

export function openSqliteBlobStore(options: { dataDir?: string; durability?: 'full' | 'normal' } = {}): SqliteBlobStore {
  let file = ':memory:';
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    file = join(options.dataDir, BLOB_SQLITE_FILE_NAME);
  }
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('busy_timeout = 5000');
    migrateBlobSqlite(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqliteBlobStore(db);
}

export class SqliteBlobStore implements BlobStore {
  private closed = false;
  private readonly s;
  private readonly createTx;

  constructor(readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p(`INSERT INTO blobs (blob_id, upload_hash, account_id, size, committed, state, sha256, created_at, expires_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      byUpload: p('SELECT * FROM blobs WHERE upload_hash = ?'),
      byId: p('SELECT * FROM blobs WHERE blob_id = ?'),
      setCommitted: p('UPDATE blobs SET committed = ? WHERE blob_id = ? AND state = 0'),
      complete: p('UPDATE blobs SET state = 1, sha256 = ?, expires_at = ?, committed = size WHERE blob_id = ?'),
      del: p('DELETE FROM blobs WHERE blob_id = ?'),
      expired: p('SELECT * FROM blobs WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
      usage: p('SELECT count(*) FILTER (WHERE state = 0) AS uploads, coalesce(sum(size), 0) AS bytes FROM blobs WHERE account_id = ?'),
      allIds: p('SELECT blob_id FROM blobs').pluck(),
    };
    this.createTx = db.transaction((row: BlobRecord, quota: BlobQuota): CreateUploadResult => {
      const usage = this.s.usage.get(row.accountId) as BlobUsage;
      if (usage.uploads >= quota.maxConcurrentUploads) return 'too_many_uploads';
      if (usage.bytes + row.size > quota.quotaBytes) return 'quota_exceeded';
      this.s.insert.run(row.blobId, row.uploadHash, row.accountId, row.size, row.committed, STATE_UPLOADING, null, row.createdAt, row.expiresAt);
      return 'created';
    });
  }

  private check(): void {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'blob store is closed');
  }

  async createUpload(record: BlobRecord, quota: BlobQuota): Promise<CreateUploadResult> {
    this.check();
    return this.createTx(record, quota);
  }

  async getByUploadHash(uploadHash: Uint8Array): Promise<BlobRecord | undefined> {
    this.check();
    const row = this.s.byUpload.get(uploadHash) as BlobRow | undefined;
    return row && toRecord(row);
  }

  async getBlob(blobId: Uint8Array): Promise<BlobRecord | undefined> {
    this.check();
    const row = this.s.byId.get(blobId) as BlobRow | undefined;
    return row && toRecord(row);
  }

  async setCommitted(blobId: Uint8Array, committed: number): Promise<void> {
    this.check();
    this.s.setCommitted.run(committed, blobId);
  }

  async complete(blobId: Uint8Array, sha256: Uint8Array, expiresAt: number): Promise<void> {
    this.check();
    this.s.complete.run(sha256, expiresAt, blobId);
  }

  async delete(blobId: Uint8Array): Promise<boolean> {
    this.check();
    return this.s.del.run(blobId).changes > 0;
  }

  async expired(now: number, limit: number): Promise<BlobRecord[]> {
    this.check();
    return (this.s.expired.all(now, limit) as BlobRow[]).map(toRecord);
  }

  async usage(accountId: Uint8Array): Promise<BlobUsage> {
    this.check();
    const u = this.s.usage.get(accountId) as BlobUsage;
    return { uploads: u.uploads, bytes: u.bytes };
  }

  async allIds(): Promise<Uint8Array[]> {
    this.check();
    return this.s.allIds.all() as Buffer[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
