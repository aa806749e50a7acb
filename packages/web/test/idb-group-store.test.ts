import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { groupStoreConformance } from '../../client/test/group-store-conformance.js';
import { IdbGroupStore } from '../src/store/idb-group-store.js';
import { createIdbStoreLazily, deleteIdbStore, openIdbStore } from '../src/store/idb-store.js';
import { openDatabase, requestResult, ROWS } from '../src/store/idb.js';

let n = 0;
groupStoreConformance('indexeddb', () => {
  const store = createIdbStoreLazily({ name: `group-conformance-${n++}` });
  return { store: new IdbGroupStore(store), close: () => store.close() };
});

const b = (...x: number[]) => new Uint8Array(x);
const message = { id: 'm1', groupId: 'g1', senderId: 'ann', direction: 'in' as const, text: 'hello group', sentAt: 5, receivedAt: 6, state: 'delivered' as const, read: false };

describe('IndexedDB group store', () => {
  it('keeps groups, sender keys, messages and held payloads across a reopen', async () => {
    const name = `group-reopen-${n++}`;
    const s = await openIdbStore({ name });
    const g = new IdbGroupStore(s);
    g.putGroup({ id: 'g1', state: b(1, 2), ownKey: b(7, 7, 7), inviteSecret: 'ab', active: true, createdAt: 3 });
    g.putGroup({ id: 'g2', state: b(3), ownKey: null, inviteSecret: null, active: false, createdAt: 4 });
    g.putSenderKey('g1', 'd1', 'k1', b(4, 4));
    g.insertMessage(message);
    g.insertMessage({ ...message, id: 'm2', sentAt: 9, text: 'second' });
    g.markRead(['m2']);
    g.hold({ groupId: 'g1', sender: b(1), payload: b(2), at: 3 });
    g.hold({ groupId: 'g1', sender: b(1), payload: b(5), at: 4 });
    g.deleteHeld(g.listHeld('g1')[0]!.seq);
    await s.whenPersisted();
    s.close();

    const t = await openIdbStore({ name });
    const h = new IdbGroupStore(t);
    expect(h.listGroups().map((x) => x.id)).toEqual(['g1', 'g2']);
    expect(h.getGroup('g1')).toEqual({ id: 'g1', state: b(1, 2), ownKey: b(7, 7, 7), inviteSecret: 'ab', active: true, createdAt: 3 });
    expect(h.getGroup('g2')!.ownKey).toBeNull();
    expect(h.getSenderKey('g1', 'd1', 'k1')).toEqual(b(4, 4));
    expect(h.listMessages('g1').map((m) => m.text)).toEqual(['hello group', 'second']);
    expect(h.listUnread().map((m) => m.id)).toEqual(['m1']);
    expect(h.listHeld('g1').map((x) => [...x.payload])).toEqual([[5]]);
    // A new held payload sorts after the ones that survived the reload.
    h.hold({ groupId: 'g1', sender: b(1), payload: b(6), at: 5 });
    expect(h.listHeld('g1').map((x) => [...x.payload])).toEqual([[5], [6]]);
    t.close();
    await deleteIdbStore(name);
  });

  it('commits a group write together with the session record of the same transaction, or neither', async () => {
    const name = `group-tx-${n++}`;
    const s = await openIdbStore({ name });
    const g = new IdbGroupStore(s);
    expect(() =>
      s.transaction(() => {
        s.putSession('d1', 'c1', b(1));
        g.insertMessage(message);
        throw new Error('the message could not be processed');
      }),
    ).toThrow();
    expect(g.getMessage('m1')).toBeUndefined();
    expect(s.getSession('d1')).toBeUndefined();
    s.transaction(() => {
      s.putSession('d1', 'c1', b(2));
      g.insertMessage(message);
    });
    await s.whenPersisted();
    s.close();
    const t = await openIdbStore({ name });
    expect(t.getSession('d1')).toEqual(b(2));
    expect(new IdbGroupStore(t).getMessage('m1')?.text).toBe('hello group');
    t.close();
  });

  it('never writes sender keys in plaintext', async () => {
    const name = `group-sealed-${n++}`;
    const s = await openIdbStore({ name });
    const g = new IdbGroupStore(s);
    g.putGroup({ id: 'g1', state: b(1), ownKey: b(0xaa, 0xab, 0xac), inviteSecret: null, active: true, createdAt: 1 });
    g.putSenderKey('g1', 'd1', 'k1', b(0xba, 0xbb, 0xbc));
    g.hold({ groupId: 'g1', sender: b(1), payload: b(0xca, 0xcb, 0xcc), at: 1 });
    await s.whenPersisted();
    s.close();
    const db = await openDatabase(indexedDB, name);
    const raw = await requestResult(db.transaction(ROWS, 'readonly').objectStore(ROWS).getAll());
    db.close();
    const dump = JSON.stringify(raw, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    expect(dump).not.toContain('[170,171,172]');
    expect(dump).not.toContain('[186,187,188]');
    expect(dump).not.toContain('[202,203,204]');
  });
});
