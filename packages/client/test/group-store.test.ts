import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemoryGroupStore, SqliteGroupStore, openSqliteStore } from '../src/index.node.js';
import { groupStoreConformance } from './group-store-conformance.js';
import { tempDir } from './helpers.js';

const dir = tempDir('group-store');
after(() => dir.remove());

groupStoreConformance('memory', () => ({ store: new MemoryGroupStore(), close: () => undefined }));
groupStoreConformance('sqlite', () => {
  const s = openSqliteStore(join(dir.path, `conf-${Math.random()}.db`));
  return { store: new SqliteGroupStore(s.db), close: () => s.close() };
});

describe('migration 4 (groups)', () => {
  it('keeps data written by schema 3 and adds the group tables', () => {
    const path = join(dir.path, 'migrate-4.db');
    const v3 = openSqliteStore(path, { schemaVersion: 3 });
    v3.putContact({ id: 'c1', name: 'Ann', accountKey: new Uint8Array([1]), relayUrl: 'ws://r/p', deliveryToken: new Uint8Array([2]), verified: true, addedAt: 1 });
    v3.addSafetyEvent({ id: 'e1', contactId: 'c1', kind: 'key_changed', deviceId: 'd9', at: 7, acknowledged: false });
    assert.throws(() => new SqliteGroupStore(v3.db).listGroups(), 'no groups table in schema 3');
    v3.close();

    const v4 = openSqliteStore(path, { schemaVersion: 4 });
    assert.equal(v4.db.pragma('user_version', { simple: true }), 4);
    assert.equal(v4.getContact('c1')?.name, 'Ann');
    assert.equal(v4.listSafetyEvents('c1').length, 1);
    const groups = new SqliteGroupStore(v4.db);
    assert.deepEqual(groups.listGroups(), []);
    groups.putGroup({ id: 'g', state: new Uint8Array([1]), ownKey: null, inviteSecret: null, active: true, createdAt: 1 });
    assert.equal(groups.listGroups().length, 1);
    v4.close();
  });
});

describe('migration 6 (group receipts and sent copies)', () => {
  it('keeps groups, messages and message-life data written by schema 5 and adds receipts and sent copies', () => {
    const path = join(dir.path, 'migrate-6.db');
    const v5 = openSqliteStore(path, { schemaVersion: 5 });
    const g5 = new SqliteGroupStore(v5.db);
    g5.putGroup({ id: 'g', state: new Uint8Array([1]), ownKey: new Uint8Array([2]), inviteSecret: null, active: true, createdAt: 1 });
    g5.insertMessage({ id: 'm1', groupId: 'g', senderId: 'me', direction: 'out', text: 'hi all', sentAt: 5, receivedAt: null, state: 'sent', read: true });
    v5.putBlock({ contactId: 'c9', at: 3, reported: false, note: '' });
    assert.throws(() => g5.listReceipts('m1'), 'no group_receipts table in schema 5');
    v5.close();

    const v6 = openSqliteStore(path, { schemaVersion: 6 });
    assert.equal(v6.db.pragma('user_version', { simple: true }), 6);
    const g6 = new SqliteGroupStore(v6.db);
    assert.deepEqual(g6.getGroup('g')!.ownKey, new Uint8Array([2]));
    assert.equal(g6.getMessage('m1')!.state, 'sent');
    assert.equal(v6.listBlocks().length, 1);
    assert.deepEqual(g6.listReceipts('m1'), [], 'old messages have no receipts');
    assert.deepEqual(g6.listSent('m1'), []);
    g6.putReceipt({ messageId: 'm1', memberId: 'b', state: 'read', at: 9 });
    g6.putSent({ groupId: 'g', messageId: 'm1', distributionId: 'd', iteration: 0, epoch: 2 });
    assert.equal(g6.countReceipts('m1', 'read'), 1);
    assert.equal(g6.findSent('g', 'd', 0)!.epoch, 2);
    v6.close();
  });
});
