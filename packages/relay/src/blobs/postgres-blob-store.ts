/**
 * Blob records and bytes in PostgreSQL, for a cluster: an attachment uploaded through one node
 * must download through any other (docs/operations.md). Tables: migration 6 of the PostgreSQL
 * store (`blobs`, `blob_chunks`), on the store's first shard, through its pool.
 *
 * createUpload counts the account's uploads and bytes and inserts under a transaction-scoped
 * advisory lock on the account, so two nodes creating at once cannot both squeeze under a limit.
 * Bytes are rows keyed by (blob_id, offset), one per PATCH write batch, each committed as it is
 * written; a writer first drops rows at or past the committed length (left by a node that died
 * mid-write), and finalize cuts what lies past the declared size.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { fromHex } from '@pigeon/crypto';
import { RelayServerError } from '../errors.js';
import { bytea as b } from '../store/bytea.js';
import type { BlobBytes, BlobWriter } from './bytes.js';
import type { BlobQuota, BlobRecord, BlobStore, BlobUsage, CreateUploadResult } from './types.js';

/** Rows fetched per query while streaming a download or a digest (each up to one write batch). */
export const CHUNK_ROWS_PER_QUERY = 8;
/** Advisory lock namespace of blob quota checks (other users of advisory locks pick other keys). */
const QUOTA_LOCK_NAMESPACE = 0x626c6f62; // "blob"

interface BlobRow {
  blob_id: Buffer;
  upload_hash: Buffer;
  account_id: Buffer;
  size: number | string;
  committed: number | string;
  complete: boolean;
  sha256: Buffer | null;
  created_at: number | string;
  expires_at: number | string;
}

const toRecord = (r: BlobRow): BlobRecord => ({
  blobId: r.blob_id,
  uploadHash: r.upload_hash,
  accountId: r.account_id,
  size: Number(r.size),
  committed: Number(r.committed),
  state: r.complete ? 'complete' : 'uploading',
  sha256: r.sha256,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});


export class PostgresBlobStore implements BlobStore {
  private closed = false;

  constructor(private readonly pool: () => pg.Pool) {}

  private db(): pg.Pool {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'blob store is closed');
    return this.pool();
  }

  async createUpload(record: BlobRecord, quota: BlobQuota): Promise<CreateUploadResult> {
    const client = await this.db().connect();
    try {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext(encode($2, $3)))', [QUOTA_LOCK_NAMESPACE, b(record.accountId), 'hex']);
        const usage = await usageOf(client, record.accountId);
        let result: CreateUploadResult = 'created';
        if (usage.uploads >= quota.maxConcurrentUploads) result = 'too_many_uploads';
        else if (usage.bytes + record.size > quota.quotaBytes) result = 'quota_exceeded';
        else {
          await client.query(
            `INSERT INTO blobs (blob_id, upload_hash, account_id, size, committed, complete, sha256, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, false, NULL, $6, $7)`,
            [b(record.blobId), b(record.uploadHash), b(record.accountId), record.size, record.committed, record.createdAt, record.expiresAt],
          );
        }
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    } finally {
      client.release();
    }
  }

  async getByUploadHash(uploadHash: Uint8Array): Promise<BlobRecord | undefined> {
    const { rows } = await this.db().query<BlobRow>('SELECT * FROM blobs WHERE upload_hash = $1', [b(uploadHash)]);
    return rows[0] && toRecord(rows[0]);
  }

  async getBlob(blobId: Uint8Array): Promise<BlobRecord | undefined> {
    const { rows } = await this.db().query<BlobRow>('SELECT * FROM blobs WHERE blob_id = $1', [b(blobId)]);
    return rows[0] && toRecord(rows[0]);
  }

  async setCommitted(blobId: Uint8Array, committed: number): Promise<void> {
    await this.db().query('UPDATE blobs SET committed = $2 WHERE blob_id = $1 AND NOT complete', [b(blobId), committed]);
  }

  async complete(blobId: Uint8Array, sha256: Uint8Array, expiresAt: number): Promise<void> {
    await this.db().query('UPDATE blobs SET complete = true, sha256 = $2, expires_at = $3, committed = size WHERE blob_id = $1', [b(blobId), b(sha256), expiresAt]);
  }

  async delete(blobId: Uint8Array): Promise<boolean> {
    return ((await this.db().query('DELETE FROM blobs WHERE blob_id = $1', [b(blobId)])).rowCount ?? 0) > 0;
  }

  async expired(now: number, limit: number): Promise<BlobRecord[]> {
    const { rows } = await this.db().query<BlobRow>('SELECT * FROM blobs WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2', [now, limit]);
    return rows.map(toRecord);
  }

  async usage(accountId: Uint8Array): Promise<BlobUsage> {
    return usageOf(this.db(), accountId);
  }

  async allIds(): Promise<Uint8Array[]> {
    return (await this.db().query<{ blob_id: Buffer }>('SELECT blob_id FROM blobs')).rows.map((r) => r.blob_id);
  }

  /** The pool belongs to the relay store, which closes it. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function usageOf(on: pg.Pool | pg.PoolClient, accountId: Uint8Array): Promise<BlobUsage> {
  const { rows } = await on.query<{ uploads: string | number; bytes: string | number }>(
    'SELECT count(*) FILTER (WHERE NOT complete) AS uploads, coalesce(sum(size), 0) AS bytes FROM blobs WHERE account_id = $1',
    [b(accountId)],
  );
  return { uploads: Number(rows[0]?.uploads ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}

export class PostgresBlobBytes implements BlobBytes {
  constructor(private readonly pool: () => pg.Pool) {}

  async init(): Promise<void> {}

  /** Drops rows at or past `size` and shortens one that runs across it. */
  private async cut(id: Buffer, size: number): Promise<void> {
    const db = this.pool();
    await db.query('DELETE FROM blob_chunks WHERE blob_id = $1 AND at >= $2', [id, size]);
    await db.query('UPDATE blob_chunks SET data = substring(data FROM 1 FOR ($2 - at)::int) WHERE blob_id = $1 AND at < $2 AND at + octet_length(data) > $2', [id, size]);
  }

  async openWriter(blobIdHex: string, offset: number): Promise<BlobWriter> {
    const id = b(fromHex(blobIdHex));
    await this.cut(id, offset);
    let position = offset;
    const pool = this.pool;
    return {
      async write(bytes) {
        // Committed on its own (autocommit): durable before the committed length is recorded.
        await pool().query('INSERT INTO blob_chunks (blob_id, at, data) VALUES ($1, $2, $3)', [id, position, bytes]);
        position += bytes.length;
      },
      async sync() {},
      async close() {},
    };
  }

  async truncate(blobIdHex: string, size: number): Promise<void> {
    await this.cut(b(fromHex(blobIdHex)), size);
  }

  async read(blobIdHex: string, start: number, end: number): Promise<AsyncIterable<Uint8Array> | undefined> {
    const id = b(fromHex(blobIdHex));
    const first = await this.rowsFrom(id, start, end);
    if (first.length === 0) return undefined;
    const rowsFrom = (from: number) => this.rowsFrom(id, from, end);
    return (async function* () {
      let rows = first;
      while (rows.length > 0) {
        let next = 0;
        for (const r of rows) {
          const at = Number(r.at);
          const from = Math.max(start, at) - at;
          const to = Math.min(end + 1, at + r.data.length) - at;
          if (to > from) yield r.data.subarray(from, to);
          next = at + r.data.length;
        }
        if (next > end || rows.length < CHUNK_ROWS_PER_QUERY) return;
        rows = await rowsFrom(next);
      }
    })();
  }

  /** Rows holding bytes of [from, end], in order, at most CHUNK_ROWS_PER_QUERY. */
  private async rowsFrom(id: Buffer, from: number, end: number): Promise<{ at: string | number; data: Buffer }[]> {
    const { rows } = await this.pool().query<{ at: string | number; data: Buffer }>(
      'SELECT at, data FROM blob_chunks WHERE blob_id = $1 AND at + octet_length(data) > $2 AND at <= $3 ORDER BY at LIMIT $4',
      [id, from, end, CHUNK_ROWS_PER_QUERY],
    );
    return rows;
  }

  async sha256(blobIdHex: string, size: number): Promise<Uint8Array> {
    const hash = createHash('sha256');
    if (size > 0) {
      const body = await this.read(blobIdHex, 0, size - 1);
      if (body) for await (const piece of body) hash.update(piece);
    }
    return hash.digest();
  }

  async remove(blobIdHex: string): Promise<void> {
    await this.pool().query('DELETE FROM blob_chunks WHERE blob_id = $1', [b(fromHex(blobIdHex))]);
  }

  /** Rows outlive no record (ON DELETE CASCADE), so there is never anything to remove. */
  async removeOrphans(): Promise<number> {
    return 0;
  }
}
