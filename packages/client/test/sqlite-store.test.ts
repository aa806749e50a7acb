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

    const v2 = openSqliteStore(path, { schemaVersion: 2 });
    assert.equal(v2.db.pragma('user_version', { simple: true }), 2);
    const rows = v2.listOutbox();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.relayUrl, 'ws://relay.example/pigeon');
    assert.deepEqual(rows[0]!.envelope, new Uint8Array([4, 5]));
    assert.equal(v2.getContact('c1')?.name, 'Ann');
    v2.close();
  });

  it('migration 3 keeps data written by schema 2 and adds safety events', () => {
    const path = join(dir.path, 'migrate-3.db');
    const v2 = openSqliteStore(path, { schemaVersion: 2 });
    assert.equal(v2.db.pragma('user_version', { simple: true }), 2);
    v2.putContact({ id: 'c1', name: 'Ann', accountKey: new Uint8Array([1]), relayUrl: 'ws://r/p', deliveryToken: new Uint8Array([2]), verified: true, addedAt: 1 });
    v2.insertMessage({ id: 'm1', contactId: 'c1', direction: 'out', text: 'hi', sentAt: 5, receivedAt: null, state: 'delivered', read: true });
    v2.setState('settings.read_receipts', 'off');
    assert.throws(() => v2.listSafetyEvents('c1'), 'no safety_events table in schema 2');
    v2.close();

    const v3 = openSqliteStore(path, { schemaVersion: 3 });
    assert.equal(v3.db.pragma('user_version', { simple: true }), 3);
    assert.equal(v3.getContact('c1')?.verified, true);
    assert.equal(v3.getMessage('m1')?.state, 'delivered');
    assert.equal(v3.getState('settings.read_receipts'), 'off');
    assert.deepEqual(v3.listSafetyEvents('c1'), []);
    v3.addSafetyEvent({ id: 'e1', contactId: 'c1', kind: 'key_changed', deviceId: 'd9', at: 7, acknowledged: false });
    v3.setMessageState('m1', 'read');
    assert.equal(v3.listSafetyEvents('c1').length, 1);
    assert.equal(v3.getMessage('m1')?.state, 'read');
    v3.close();
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
