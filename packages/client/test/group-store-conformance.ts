/**
 * The GroupStore conformance suite, run by every adapter (memory and SQLite here, IndexedDB in
 * packages/web): groupStoreConformance('sqlite', () => ({ store, close })) with a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupStore } from '../src/index.js';

export function groupStoreConformance(name: string, make: () => { store: GroupStore; close(): void }): void {
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

    it('keeps members\' receipts only forward, and the sent copies of a message', () => {
      const { store, close } = make();
      try {
        store.putReceipt({ messageId: 'm1', memberId: 'b', state: 'delivered', at: 1 });
        store.putReceipt({ messageId: 'm1', memberId: 'a', state: 'read', at: 2 });
        store.putReceipt({ messageId: 'm2', memberId: 'a', state: 'delivered', at: 3 });
        assert.deepEqual(store.listReceipts('m1').map((r) => [r.memberId, r.state, r.at]), [['a', 'read', 2], ['b', 'delivered', 1]]);
        store.putReceipt({ messageId: 'm1', memberId: 'a', state: 'delivered', at: 4 });
        assert.equal(store.listReceipts('m1')[0]!.state, 'read', 'a late delivery receipt does not undo read');
        store.putReceipt({ messageId: 'm1', memberId: 'b', state: 'read', at: 5 });
        assert.deepEqual(store.listReceipts('m1').map((r) => [r.memberId, r.state, r.at]), [['a', 'read', 2], ['b', 'read', 5]]);
        assert.equal(store.countReceipts('m1', 'delivered'), 2);
        assert.equal(store.countReceipts('m1', 'read'), 2);
        assert.equal(store.countReceipts('m2', 'delivered'), 1);
        assert.equal(store.countReceipts('m2', 'read'), 0);
        assert.deepEqual(store.listReceipts('none'), []);

        store.putSent({ groupId: 'g1', messageId: 'm1', distributionId: 'd2', iteration: 0, epoch: 4 });
        store.putSent({ groupId: 'g1', messageId: 'm1', distributionId: 'd1', iteration: 7, epoch: 3 });
        store.putSent({ groupId: 'g1', messageId: 'm2', distributionId: 'd1', iteration: 8, epoch: 3 });
        assert.equal(store.findSent('g1', 'd1', 7)!.messageId, 'm1');
        assert.equal(store.findSent('g1', 'd1', 8)!.messageId, 'm2');
        assert.equal(store.findSent('g0', 'd1', 7), undefined);
        assert.equal(store.findSent('g1', 'd1', 9), undefined);
        assert.deepEqual(store.listSent('m1').map((r) => [r.distributionId, r.iteration, r.epoch]), [['d1', 7, 3], ['d2', 0, 4]]);
      } finally {
        close();
      }
    });
  });
}
