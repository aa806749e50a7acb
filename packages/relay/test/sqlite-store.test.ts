import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RelayServerError } from '../src/errors.js';
import { LATEST_SCHEMA_VERSION, SQLITE_MIGRATIONS } from '../src/store/sqlite-migrations.js';
import { migrateSqlite, openSqliteStore, SQLITE_FILE_NAME } from '../src/store/sqlite-store.js';
import { runStoreConformance } from './store-conformance.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pigeon-store-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

runStoreConformance('sqlite in memory', async () => openSqliteStore());
runStoreConformance('sqlite file, synchronous=NORMAL', async () => openSqliteStore({ dataDir: tempDir(), durability: 'normal' }));

describe('sqlite store specifics', () => {
  it('keeps committed messages across close and reopen (WAL, FULL)', async () => {
    const dir = tempDir();
    const s = openSqliteStore({ dataDir: dir });
    const r = new Uint8Array(16).fill(1);
    assert.equal(await s.enqueue({ recipientDeviceId: r, messageId: new Uint8Array(16).fill(2), envelope: new Uint8Array([9]), receivedAt: 1, expiresAt: 99 }, { maxMessages: 10, maxBytes: 100 }), 'stored');
    await s.close();
    const again = openSqliteStore({ dataDir: dir });
    assert.equal((await again.pending(r, 0, 0, 10)).length, 1);
    assert.equal(again.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(again.db.pragma('synchronous', { simple: true }), 2); // FULL
    await again.close();
  });

  it('migrations: a fresh database reaches the latest version; reopening is a no-op', () => {
    const db = new Database(':memory:');
    migrateSqlite(db);
    assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
    migrateSqlite(db);
    assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    for (const t of ['accounts', 'delivery_tokens', 'devices', 'mailbox_usage', 'messages', 'one_time_prekeys', 'signed_prekeys']) {
      assert.ok(tables.includes(t), t);
    }
    db.close();
  });

  it('migrations: each step applies on top of the previous version and keeps data', () => {
    const db = new Database(':memory:');
    for (const m of SQLITE_MIGRATIONS) {
      // Data written at version N-1 (none before the first) must survive migration N.
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    db.prepare('INSERT INTO accounts (account_id, created_at) VALUES (?, 1)').run(Buffer.alloc(16, 1));
    migrateSqlite(db);
    assert.equal(db.prepare('SELECT count(*) FROM accounts').pluck().get(), 1);
    db.close();
  });

  it('refuses a database written by a newer relay', () => {
    const dir = tempDir();
    const db = new Database(join(dir, SQLITE_FILE_NAME));
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openSqliteStore({ dataDir: dir }), (e: unknown) => e instanceof RelayServerError && e.code === 'SCHEMA_TOO_NEW');
  });

  it('a failing write in a group commit fails alone', async () => {
    const s = openSqliteStore();
    const r = new Uint8Array(16).fill(1);
    const good = s.enqueue({ recipientDeviceId: r, messageId: new Uint8Array(16).fill(2), envelope: new Uint8Array(1), receivedAt: 1, expiresAt: 9 }, { maxMessages: 9, maxBytes: 99 });
    // A value SQLite cannot bind, inside the same batch.
    const bad = s.enqueue({ recipientDeviceId: r, messageId: {} as unknown as Uint8Array, envelope: new Uint8Array(1), receivedAt: 1, expiresAt: 9 }, { maxMessages: 9, maxBytes: 99 });
    assert.equal(await good, 'stored');
    await assert.rejects(bad);
    assert.equal((await s.pending(r, 0, 0, 10)).length, 1);
    assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 1, bytes: 1 });
    // A write that fails half-way rolls back its own first half (savepoint), nothing else.
    await assert.rejects(s.ack(r, [new Uint8Array(16).fill(2), {} as unknown as Uint8Array]));
    assert.equal((await s.pending(r, 0, 0, 10)).length, 1);
    await s.close();
  });

  it('durability full: batches with an enqueue commit with fsync, ack-only batches without it, and FULL is restored', async () => {
    const dir = tempDir();
    const s = openSqliteStore({ dataDir: dir });
    const r = new Uint8Array(16).fill(3);
    const limits = { maxMessages: 9, maxBytes: 99 };
    const message = (id: number) => ({ recipientDeviceId: r, messageId: new Uint8Array(16).fill(id), envelope: new Uint8Array(4), receivedAt: 1, expiresAt: 9 });
    assert.equal(await s.enqueue(message(1), limits), 'stored');
    assert.deepStrictEqual(s.commits, { synced: 1, relaxed: 0, failedBatches: 0 });
    assert.equal(await s.ack(r, [new Uint8Array(16).fill(1)]), 1);
    assert.deepStrictEqual(s.commits, { synced: 1, relaxed: 1, failedBatches: 0 });
    assert.equal(s.db.pragma('synchronous', { simple: true }), 2); // back to FULL for the next batch
    // An ack in the same batch as an enqueue shares its synced commit.
    assert.equal(await s.enqueue(message(2), limits), 'stored');
    const [stored, acked] = await Promise.all([s.enqueue(message(3), limits), s.ack(r, [new Uint8Array(16).fill(2)])]);
    assert.equal(stored, 'stored');
    assert.equal(acked, 1);
    assert.deepStrictEqual(s.commits, { synced: 3, relaxed: 1, failedBatches: 0 });
    await s.close();
    // Every commit, relaxed or not, is in the database after a reopen.
    const again = openSqliteStore({ dataDir: dir });
    assert.deepStrictEqual((await again.pending(r, 0, 0, 10)).map((m) => m.messageId[0]), [3]);
    await again.close();
  });

  it('durability normal: nothing to relax, every batch keeps NORMAL', async () => {
    const s = openSqliteStore({ dataDir: tempDir(), durability: 'normal' });
    const r = new Uint8Array(16).fill(4);
    assert.equal(await s.enqueue({ recipientDeviceId: r, messageId: new Uint8Array(16).fill(1), envelope: new Uint8Array(1), receivedAt: 1, expiresAt: 9 }, { maxMessages: 9, maxBytes: 99 }), 'stored');
    assert.equal(await s.ack(r, [new Uint8Array(16).fill(1)]), 1);
    assert.deepStrictEqual(s.commits, { synced: 2, relaxed: 0, failedBatches: 0 });
    assert.equal(s.db.pragma('synchronous', { simple: true }), 1);
    await s.close();
  });
});
