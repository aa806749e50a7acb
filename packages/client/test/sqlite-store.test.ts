import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION, migrate, openSqliteStore } from '../src/index.node.js';
import { tempDir } from './helpers.js';
import { storeConformance } from './store-conformance.js';

const dir = tempDir('store');
after(() => dir.remove());
let n = 0;

storeConformance('sqlite', () => openSqliteStore(join(dir.path, `conformance-${n++}.db`)));

describe('SQLite store', () => {
  it('creates the database file with mode 0600', () => {
    const path = join(dir.path, 'mode.db');
    const store = openSqliteStore(path);
    store.setState('x', '1');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    for (const suffix of ['-wal', '-shm']) {
      try {
        assert.equal(statSync(path + suffix).mode & 0o777, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    store.close();
  });

  it('uses WAL and records the schema version', () => {
    const store = openSqliteStore(join(dir.path, 'wal.db'));
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    store.close();
  });

  it('numbers migrations 1..N without gaps', () => {
    assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  });

  it('migration 2 keeps data written by schema 1 and fills the outbox relay', () => {
    const path = join(dir.path, 'migrate.db');
    const v1 = openSqliteStore(path, { schemaVersion: 1 });
    assert.equal(v1.db.pragma('user_version', { simple: true }), 1);
    v1.db
      .prepare('INSERT INTO contacts (id, name, account_key, relay_url, delivery_token, verified, added_at) VALUES (?, ?, ?, ?, ?, 0, 1)')
      .run('c1', 'Ann', Buffer.from([1]), 'ws://relay.example/pigeon', Buffer.from([2]));
    v1.db
      .prepare('INSERT INTO outbox (relay_message_id, message_id, contact_id, recipient_device_id, delivery_token, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('r1', 'm1', 'c1', 'd1', Buffer.from([3]), Buffer.from([4, 5]), 7);
    v1.close();

    const v2 = openSqliteStore(path);
    assert.equal(v2.db.pragma('user_version', { simple: true }), 2);
    const rows = v2.listOutbox();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.relayUrl, 'ws://relay.example/pigeon');
    assert.deepEqual(rows[0]!.envelope, new Uint8Array([4, 5]));
    assert.equal(v2.getContact('c1')?.name, 'Ann');
    v2.close();
  });

  it('refuses a database from a newer version', () => {
    const path = join(dir.path, 'newer.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openSqliteStore(path), { code: 'STORE_ERROR' });
  });

  it('migrate() is idempotent', () => {
    const store = openSqliteStore(join(dir.path, 'idem.db'));
    migrate(store.db);
    assert.equal(store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    store.close();
  });
});
