import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { storeConformance } from '../../client/test/store-conformance.js';
import { createIdbStoreLazily, deleteIdbStore, openIdbStore, SECRET_FIELDS } from '../src/store/idb-store.js';
import { openDatabase, requestResult, ROWS, META } from '../src/store/idb.js';
import { WRAP_KEY_ID } from '../src/store/key-vault.js';

let n = 0;
storeConformance('indexeddb', () => createIdbStoreLazily({ name: `conformance-${n++}` }));

const b = (...x: number[]) => new Uint8Array(x);
const identity = { accountKeys: b(1, 1, 1), deviceKeys: b(2, 2, 2), displayName: 'Ann', relayUrl: 'ws://r/pigeon', deliveryToken: b(4), createdAt: 5 };

describe('IndexedDB store persistence', () => {
  it('reloads every committed row after a reopen, in the same order', async () => {
    const name = `reopen-${n++}`;
    const s = await openIdbStore({ name });
    s.putIdentity(identity);
    s.putPreKey('kem', 7, b(9, 9));
    s.putSession('d1', 'c1', b(3));
    s.insertMessage({ id: 'm2', contactId: 'c1', direction: 'in', text: 'b', sentAt: 100, receivedAt: 1, state: 'delivered', read: false });
    s.insertMessage({ id: 'm1', contactId: 'c1', direction: 'in', text: 'a', sentAt: 100, receivedAt: 1, state: 'delivered', read: false });
    s.setState('k', 'v');
    s.deletePreKey('kem', 7);
    await s.whenPersisted();
    s.close();
    const t = await openIdbStore({ name });
    expect(t.getIdentity()).toEqual(identity);
    expect(t.getPreKey('kem', 7)).toBeUndefined();
    expect(t.getSession('d1')).toEqual(b(3));
    // same sentAt: insertion order breaks the tie, as SQLite's rowid does
    expect(t.listMessages('c1').map((m) => m.id)).toEqual(['m2', 'm1']);
    expect(t.getState('k')).toBe('v');
    t.close();
    await deleteIdbStore(name);
  });

  it('does not persist a rolled-back transaction', async () => {
    const name = `rollback-${n++}`;
    const s = await openIdbStore({ name });
    expect(() => s.transaction(() => {
      s.setState('x', '1');
      throw new Error('no');
    })).toThrow();
    s.setState('y', '2');
    await s.whenPersisted();
    s.close();
    const t = await openIdbStore({ name });
    expect(t.getState('x')).toBeUndefined();
    expect(t.getState('y')).toBe('2');
    t.close();
  });

  it('never writes private key material in plaintext, and keeps the wrapping key non-extractable', async () => {
    const name = `sealed-${n++}`;
    const s = await openIdbStore({ name });
    s.putIdentity(identity);
    s.putPreKey('one_time', 1, b(0xaa, 0xbb, 0xcc, 0xdd));
    s.putSession('d1', 'c1', b(0xee, 0xef, 0xf0));
    await s.whenPersisted();
    s.close();
    expect(Object.keys(SECRET_FIELDS)).toEqual(['identity', 'prekey', 'session', 'group', 'gkey', 'gheld']);
    const db = await openDatabase(indexedDB, name);
    const tx = db.transaction([ROWS, META], 'readonly');
    const raw = await requestResult(tx.objectStore(ROWS).getAll());
    const key = (await requestResult(tx.objectStore(META).get(WRAP_KEY_ID))) as CryptoKey;
    db.close();
    const dump = JSON.stringify(raw, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    expect(dump).not.toContain('[170,187,204,221]');
    expect(dump).not.toContain('[238,239,240]');
    expect(dump).not.toContain('[1,1,1]');
    expect(dump).toContain('"displayName":"Ann"');
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });

  it('refuses to load a blob that was moved to another row', async () => {
    const name = `swap-${n++}`;
    const s = await openIdbStore({ name });
    s.putPreKey('one_time', 1, b(1));
    s.putPreKey('one_time', 2, b(2));
    await s.whenPersisted();
    s.close();
    const db = await openDatabase(indexedDB, name);
    const tx = db.transaction(ROWS, 'readwrite');
    const one = await requestResult(tx.objectStore(ROWS).get(['prekey', 'one_time:1']));
    tx.objectStore(ROWS).put(one, ['prekey', 'one_time:2']);
    await new Promise((r) => (tx.oncomplete = r));
    db.close();
    await expect(openIdbStore({ name })).rejects.toThrow();
  });

  it('rejects writes after close', async () => {
    const s = await openIdbStore({ name: `closed-${n++}` });
    s.close();
    expect(() => s.setState('a', 'b')).toThrow();
  });
});
