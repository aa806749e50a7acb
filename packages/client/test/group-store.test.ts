import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemoryGroupStore, SqliteGroupStore, openSqliteStore } from '../src/index.node.js';
import type { GroupStore } from '../src/index.node.js';
import { tempDir } from './helpers.js';

const dir = tempDir('group-store');
after(() => dir.remove());

function conformance(name: string, make: () => { store: GroupStore; close(): void }): void {
  describe(`GroupStore conformance: ${name}`, () => {
    it('keeps groups, sender keys, messages and held payloads', () => {
      const { store, close } = make();
      try {
        store.putGroup({ id: 'g1', state: new Uint8Array([1]), ownKey: null, inviteSecret: null, active: true, createdAt: 2 });
        store.putGroup({ id: 'g0', state: new Uint8Array([2]), ownKey: new Uint8Array([3]), inviteSecret: 'ab', active: false, createdAt: 1 });
        assert.deepEqual(store.listGroups().map((g) => g.id), ['g0', 'g1']);
        store.putGroup({ ...store.getGroup('g1')!, active: false, ownKey: new Uint8Array([9]) });
        assert.deepEqual(store.getGroup('g1')!.ownKey, new Uint8Array([9]));
        assert.equal(store.getGroup('g1')!.active, false);
        assert.equal(store.getGroup('nope'), undefined);

        store.putSenderKey('g1', 'd1', 'k1', new Uint8Array([4]));
        store.putSenderKey('g1', 'd1', 'k1', new Uint8Array([5]));
        store.putSenderKey('g0', 'd1', 'k1', new Uint8Array([6]));
        assert.deepEqual(store.getSenderKey('g1', 'd1', 'k1'), new Uint8Array([5]));
        store.deleteSenderKeys('g1');
        assert.equal(store.getSenderKey('g1', 'd1', 'k1'), undefined);
        assert.deepEqual(store.getSenderKey('g0', 'd1', 'k1'), new Uint8Array([6]));

        const m = { id: 'm1', groupId: 'g1', senderId: 's', direction: 'in' as const, text: 'a', sentAt: 5, receivedAt: 6, state: 'delivered' as const, read: false };
        assert.equal(store.insertMessage(m), true);
        assert.equal(store.insertMessage({ ...m, text: 'dup' }), false, 'a second copy is refused');
        store.insertMessage({ ...m, id: 'm0', sentAt: 1 });
        store.insertMessage({ ...m, id: 'm2', sentAt: 9, direction: 'out', read: true, state: 'queued' });
        assert.deepEqual(store.listMessages('g1').map((x) => x.id), ['m0', 'm1', 'm2']);
        assert.deepEqual(store.listMessages('g1', 2).map((x) => x.id), ['m1', 'm2']);
        assert.deepEqual(store.listUnread().map((x) => x.id), ['m0', 'm1']);
        store.markRead(['m1']);
        assert.deepEqual(store.listUnread().map((x) => x.id), ['m0']);
        store.setMessageState('m2', 'sent');
        assert.equal(store.getMessage('m2')!.state, 'sent');
        assert.equal(store.getMessage('m1')!.text, 'a');

        store.hold({ groupId: 'g1', sender: new Uint8Array([1]), payload: new Uint8Array([2]), at: 3 });
        store.hold({ groupId: 'g1', sender: new Uint8Array([4]), payload: new Uint8Array([5]), at: 6 });
        const held = store.listHeld('g1');
        assert.equal(store.countHeld('g1'), 2);
        assert.deepEqual(held.map((h) => h.at), [3, 6]);
        store.deleteHeld(held[0]!.seq);
        assert.deepEqual(store.listHeld('g1').map((h) => [...h.payload]), [[5]]);
        assert.equal(store.countHeld('g0'), 0);
      } finally {
        close();
      }
    });
  });
}

conformance('memory', () => ({ store: new MemoryGroupStore(), close: () => undefined }));
conformance('sqlite', () => {
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
