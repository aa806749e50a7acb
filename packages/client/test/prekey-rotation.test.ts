/**
 * Signed prekey rotation (core/prekey-rotation.ts): the pair is replaced after
 * SIGNED_PREKEY_ROTATE_MS, the relay serves the new one, a session started from the old bundle
 * while we were offline still opens, and replaced keys are forgotten after RETIRED_PREKEY_KEEP_MS.
 * Clocks are injected (a skew added to Date.now).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { fromHex } from '@pigeon/crypto';
import { PREKEY_BATCH, RETIRED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS, openSqliteStore } from '../src/index.node.js';
import type { PigeonClient } from '../src/index.node.js';
import { nextEvent, openClient, startRelay, tempDir } from './helpers.js';
import type { TestRelay } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

/** The signed prekey ids the relay serves for a device: [signed X25519, ML-KEM last resort]. */
function servedSignedIds(relay: TestRelay, deviceIdHex: string): number[] {
  const db = new Database(join(relay.dataDir, 'relay.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT kind, key_id FROM signed_prekeys WHERE device_id = ? ORDER BY kind').all(Buffer.from(fromHex(deviceIdHex))) as { kind: number; key_id: number }[];
    return rows.map((r) => r.key_id);
  } finally {
    db.close();
  }
}

function storedPreKeys(home: string): { signed: number[]; lastResort: boolean[] } {
  const store = openSqliteStore(join(home, 'pigeon.db'));
  try {
    return {
      signed: [1, 2, 3, 4].filter((id) => store.getPreKey('signed', id) !== undefined),
      lastResort: [PREKEY_BATCH + 1].map((id) => store.getPreKey('kem', id) !== undefined),
    };
  } finally {
    store.close();
  }
}

describe('signed prekey rotation', () => {
  const dir = tempDir('prekey-rotation');
  let relay: TestRelay;
  const clock = { skew: 0 };
  const aliceHome = join(dir.path, 'alice');
  const bobHome = join(dir.path, 'bob');
  let alice: PigeonClient;
  let bob: PigeonClient;

  before(async () => {
    relay = await startRelay(join(dir.path, 'relay'));
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await relay.stop();
    dir.remove();
  });

  it('keeps the first pair while it is fresh', async () => {
    alice = await openClient(aliceHome, { now: () => Date.now() + clock.skew });
    await alice.init({ relayUrl: relay.url, displayName: 'Alice' });
    await alice.connect();
    await alice.maintainPreKeys();
    assert.deepEqual(servedSignedIds(relay, alice.profile().deviceId), [1, PREKEY_BATCH + 1]);
  });

  it('a session started from the old bundle while we were offline still opens after the rotation', async () => {
    const { link } = await alice.createInvite();
    await alice.close();
    bob = await openClient(bobHome);
    await bob.init({ relayUrl: relay.url, displayName: 'Bob' });
    await bob.connect();
    const aliceAtBob = await bob.acceptInvite(link); // bundle with signed prekey 1
    await bob.send(aliceAtBob.id, 'sent to the old bundle');
    await bob.flush();

    clock.skew += SIGNED_PREKEY_ROTATE_MS + DAY;
    alice = await openClient(aliceHome, { now: () => Date.now() + clock.skew });
    const got = nextEvent<{ text: string }>((fn) => alice.on('message', fn), (m) => m.text === 'sent to the old bundle');
    await alice.connect();
    await got;
    await alice.maintainPreKeys();
    const served = servedSignedIds(relay, alice.profile().deviceId);
    assert.equal(served[0], 2, 'the relay serves the new signed prekey');
    assert.ok(served[1]! > PREKEY_BATCH + 1, 'and a new last-resort ML-KEM prekey');
  });

  it('a new contact starts from the new bundle and both directions work', async () => {
    const { link } = await alice.createInvite();
    const carol = await openClient(join(dir.path, 'carol'));
    try {
      await carol.init({ relayUrl: relay.url, displayName: 'Carol' });
      await carol.connect();
      const contact = nextEvent<{ id: string }>((fn) => alice.on('contact', fn));
      const aliceAtCarol = await carol.acceptInvite(link);
      await carol.flush();
      const carolAtAlice = await contact;
      const reply = nextEvent<{ text: string }>((fn) => carol.on('message', fn), (m) => m.text === 'hello carol');
      await alice.send(carolAtAlice.id, 'hello carol');
      await reply;
      const back = nextEvent<{ text: string }>((fn) => alice.on('message', fn), (m) => m.text === 'hello alice');
      await carol.send(aliceAtCarol.id, 'hello alice');
      await back;
    } finally {
      await carol.close();
    }
  });

  it('forgets replaced keys only after the keep time, never the current pair', async () => {
    await alice.close();
    const kept = storedPreKeys(aliceHome);
    assert.deepEqual(kept.signed, [1, 2], 'the replaced signed prekey is kept for late sessions');
    assert.deepEqual(kept.lastResort, [true]);

    clock.skew += RETIRED_PREKEY_KEEP_MS + DAY;
    alice = await openClient(aliceHome, { now: () => Date.now() + clock.skew });
    await alice.connect();
    await alice.maintainPreKeys();
    await alice.close();
    const later = storedPreKeys(aliceHome);
    assert.deepEqual(later.signed, [2, 3], 'key 1 is gone; key 2 (replaced just now) is kept; key 3 is current');
    assert.deepEqual(later.lastResort, [false], 'the first last-resort key is gone too');
    alice = await openClient(aliceHome, { now: () => Date.now() + clock.skew });
    await alice.connect();
    const got = nextEvent<{ text: string }>((fn) => alice.on('message', fn), (m) => m.text === 'still talking');
    const aliceAtBob = bob.contacts()[0]!;
    await bob.send(aliceAtBob.id, 'still talking');
    await got;
  });
});
