/**
 * Runs the client's ClientStore conformance suite against the IndexedDB store in a real browser
 * (the unit tests use fake-indexeddb). After each case every store it opened must have written
 * its commits to IndexedDB without error; then a reopen round trip checks what is on disk.
 * The result lands in window.__conformance for e2e/idb-conformance.test.mjs.
 */
import type { ClientStore } from '@pigeon/client';
import { groupStoreConformance } from '../../../client/test/group-store-conformance.js';
import { storeConformance } from '../../../client/test/store-conformance.js';
import { IdbGroupStore } from '../../src/store/idb-group-store.js';
import { createIdbStoreLazily, deleteIdbStore, openIdbStore } from '../../src/store/idb-store.js';
import type { IdbClientStore } from '../../src/store/idb-store.js';
import assert from './mini-assert.js';
import { registered } from './mini-test.js';

interface Outcome {
  readonly passed: string[];
  readonly failed: { name: string; error: string }[];
}

const run = `${Date.now()}`;
let n = 0;
let opened: { store: IdbClientStore; name: string }[] = [];

storeConformance('indexeddb in Chromium', (): ClientStore => {
  const name = `conformance-${run}-${n++}`;
  const store = createIdbStoreLazily({ name });
  opened.push({ store, name });
  return store;
});

groupStoreConformance('indexeddb in Chromium', () => {
  const name = `group-conformance-${run}-${n++}`;
  const store = createIdbStoreLazily({ name });
  opened.push({ store, name });
  return { store: new IdbGroupStore(store), close: () => undefined };
});

async function reopenRoundTrip(): Promise<void> {
  const name = `roundtrip-${run}`;
  const b = (...x: number[]) => new Uint8Array(x);
  const s = await openIdbStore({ name });
  const identity = { accountKeys: b(1, 1), deviceKeys: b(2, 2), displayName: 'Ann', relayUrl: 'ws://r/p', deliveryToken: b(3), createdAt: 4 };
  s.putIdentity(identity);
  s.putSession('d1', 'c1', b(5));
  s.insertMessage({ id: 'm1', contactId: 'c1', direction: 'out', text: 'hi', sentAt: 1, receivedAt: null, state: 'read', read: true });
  s.addSafetyEvent({ id: 'e1', contactId: 'c1', kind: 'key_changed', deviceId: 'd2', at: 9, acknowledged: false });
  s.setState('settings.read_receipts', 'off');
  await s.whenPersisted();
  if (s.failed) throw new Error('persisting failed');
  s.close();
  const t = await openIdbStore({ name });
  const same = (x: unknown, y: unknown) => JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)) === JSON.stringify(y, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
  if (!same(t.getIdentity(), identity)) throw new Error('identity differs after reopen');
  if (!same(t.getSession('d1'), b(5))) throw new Error('session differs after reopen');
  if (t.getMessage('m1')?.state !== 'read') throw new Error('message state differs after reopen');
  if (t.listSafetyEvents('c1').length !== 1) throw new Error('safety event lost');
  if (t.getState('settings.read_receipts') !== 'off') throw new Error('setting lost');
  t.close();
  await deleteIdbStore(name);
}

/** A shim that accepted everything would make the suite pass vacuously. */
function shimSelfCheck(): void {
  const mustThrow = (fn: () => void) => {
    let threw = false;
    try {
      fn();
    } catch {
      threw = true;
    }
    if (!threw) throw new Error('the assert shim accepted a mismatch');
  };
  mustThrow(() => assert.deepEqual(new Uint8Array([1]), new Uint8Array([2])));
  mustThrow(() => assert.deepEqual({ a: 1 }, { a: 1, b: 2 }));
  mustThrow(() => assert.deepEqual([1, 2], [2, 1]));
  mustThrow(() => assert.equal(1, 2));
  mustThrow(() => assert.throws(() => undefined));
  assert.deepEqual({ a: [new Uint8Array([1])] }, { a: [new Uint8Array([1])] });
}

async function main(): Promise<Outcome> {
  const outcome: Outcome = { passed: [], failed: [] };
  const cases = [...registered(), { name: 'assert shim self-check', fn: shimSelfCheck }, { name: 'reopen round trip (sealed keys, read state, safety events, settings)', fn: reopenRoundTrip }];
  for (const c of cases) {
    opened = [];
    try {
      await c.fn();
      for (const o of opened) {
        await o.store.whenPersisted();
        if (o.store.failed) throw new Error('a commit was not written to IndexedDB');
      }
      outcome.passed.push(c.name);
    } catch (err) {
      outcome.failed.push({ name: c.name, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
    for (const o of opened) await deleteIdbStore(o.name).catch(() => undefined);
  }
  return outcome;
}

void main().then((outcome) => {
  (window as unknown as { __conformance: Outcome }).__conformance = outcome;
  document.getElementById('out')!.textContent = JSON.stringify(outcome, null, 2);
});
