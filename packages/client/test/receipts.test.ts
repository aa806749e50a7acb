import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { decodeRelayFrame } from '@pigeon/api';
import { defaultBackend } from '@pigeon/crypto';
import { MAX_RECEIPT_IDS, PigeonClient, READ_RECEIPTS_KEY, nodeSocketFactory, openSqliteStore } from '../src/index.node.js';
import type { SocketFactory, StoredMessage } from '../src/index.node.js';
import { TEST_TUNING, connectedPair, nextEvent, openClient, startRelay, tempDir } from './helpers.js';
import type { TestRelay } from './helpers.js';

const live: PigeonClient[] = [];
const root = tempDir('receipts');
after(() => root.remove());
let n = 0;
const homes = () => ({ alice: join(root.path, `a-${n}`), bob: join(root.path, `b-${n++}`) });

/** A round trip Bob -> Alice: once it arrives, everything Bob sent before it has been processed by Alice. */
async function barrier(alice: PigeonClient, bob: PigeonClient, aliceId: string): Promise<void> {
  const got = nextEvent<StoredMessage>((fn) => alice.on('message', fn), (m) => m.text === 'barrier');
  await bob.send(aliceId, 'barrier');
  await got;
}

describe('read receipts', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
  });
  after(async () => {
    await relay.stop();
  });
  // A failed assertion must not leave clients (and their sockets) keeping the process alive.
  afterEach(async () => {
    for (const c of live.splice(0)) await c.close();
  });

  it('markRead sends a read receipt: the sender sees sent -> delivered -> read', async () => {
    const { alice, bob, bobId } = await connectedPair(relay.url, homes());
    live.push(alice, bob);
    assert.deepEqual(alice.receiptSettings(), { deliveryReceipts: true, readReceipts: true });
    const states: string[] = [];
    alice.on('status', (m) => states.push(m.state));
    const delivered = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (m) => m.state === 'delivered');
    const received = nextEvent<StoredMessage>((fn) => bob.on('message', fn));
    const sent = await alice.send(bobId, 'read me');
    const m = await received;
    await delivered;
    const read = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (x) => x.state === 'read');
    await bob.markRead([m.id]);
    assert.deepEqual(bob.unread(), []);
    assert.equal((await read).id, sent.id);
    assert.deepEqual(states, ['sent', 'delivered', 'read']);
    assert.equal(alice.messages(bobId).at(-1)?.state, 'read');
    // Marking it read again sends nothing more.
    await bob.markRead([m.id]);
    assert.equal(bob.outboxSize(), 0);
    await alice.close();
    await bob.close();
  });

  it('batches read receipts per contact, at most MAX_RECEIPT_IDS ids each', async () => {
    const { alice, bob, bobId, aliceId } = await connectedPair(relay.url, homes());
    live.push(alice, bob);
    const got: StoredMessage[] = [];
    bob.on('message', (m) => got.push(m));
    const delivered = new Set<string>();
    // Once Alice has all three delivery receipts, Bob's outbox holds nothing else.
    const allDelivered = new Promise<void>((resolve) =>
      alice.on('status', (m) => {
        if (m.state === 'delivered') delivered.add(m.id);
        if (delivered.size === 3) resolve();
      }),
    );
    for (const t of ['one', 'two', 'three']) await alice.send(bobId, t);
    await allDelivered;
    await bob.flush();
    assert.equal(got.length, 3);
    const reads = new Set<string>();
    const allRead = new Promise<void>((resolve) =>
      alice.on('status', (m) => {
        if (m.state === 'read') reads.add(m.id);
        if (reads.size === 3) resolve();
      }),
    );
    // Only the three ids are real; unknown ids and outgoing ones are ignored.
    await bob.markRead([...got.map((m) => m.id), 'ff'.repeat(16)]);
    assert.equal(bob.outboxSize(), 1, 'one read receipt for the three messages');
    await allRead;
    assert.ok(MAX_RECEIPT_IDS >= 3);
    await barrier(alice, bob, aliceId);
    assert.deepEqual(alice.messages(bobId).filter((m) => m.direction === 'out').map((m) => m.state), ['read', 'read', 'read']);
    await alice.close();
    await bob.close();
  });

  it('with read receipts off nothing is sent, and others\' read receipts show as delivered', async () => {
    const { alice, bob, bobId, aliceId, bobHome } = await connectedPair(relay.url, homes());
    live.push(alice, bob);
    assert.deepEqual(bob.setReceiptSettings({ readReceipts: false }), { deliveryReceipts: true, readReceipts: false });
    // Persisted in the state table.
    await bob.close();
    const store = openSqliteStore(join(bobHome, 'pigeon.db'));
    assert.equal(store.getState(READ_RECEIPTS_KEY), 'off');
    store.close();
    const bob2 = await openClient(bobHome);
    live.push(bob2);
    await bob2.connect();
    assert.equal(bob2.receiptSettings().readReceipts, false);

    const statesAtAlice: string[] = [];
    alice.on('status', (m) => statesAtAlice.push(m.state));
    const delivered = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (m) => m.state === 'delivered');
    const received = nextEvent<StoredMessage>((fn) => bob2.on('message', fn));
    await alice.send(bobId, 'private reading');
    const m = await received;
    await delivered;
    await bob2.markRead([m.id]);
    assert.equal(bob2.outboxSize(), 0, 'no read receipt queued');
    await barrier(alice, bob2, aliceId);
    assert.deepEqual(statesAtAlice, ['sent', 'delivered']);

    // Reciprocity: Bob still receives Alice's read receipt but shows it as 'delivered' only.
    // Match the reply itself: the first barrier's delivery receipt may still be on its way.
    const backAtBob = nextEvent<StoredMessage>((fn) => bob2.on('status', fn), (x) => x.state === 'delivered' && x.text === 'reply');
    const inAlice = nextEvent<StoredMessage>((fn) => alice.on('message', fn), (x) => x.text === 'reply');
    const reply = await bob2.send(aliceId, 'reply');
    await alice.markRead([(await inAlice).id]);
    await backAtBob;
    await barrier(alice, bob2, aliceId);
    assert.equal(bob2.messages(aliceId).find((x) => x.id === reply.id)?.state, 'delivered');
    await alice.close();
    await bob2.close();
  });

  it('with delivery receipts off the sender stays at sent', async () => {
    const { alice, bob, bobId, aliceId } = await connectedPair(relay.url, homes());
    live.push(alice, bob);
    bob.setReceiptSettings({ deliveryReceipts: false });
    const statesAtAlice: string[] = [];
    alice.on('status', (m) => statesAtAlice.push(m.state));
    const received = nextEvent<StoredMessage>((fn) => bob.on('message', fn));
    await alice.send(bobId, 'quietly');
    await received;
    assert.equal(bob.outboxSize(), 0, 'no delivery receipt queued');
    await barrier(alice, bob, aliceId);
    assert.deepEqual(statesAtAlice, ['sent']);
    assert.throws(() => bob.setReceiptSettings({ readReceipts: 'yes' as unknown as boolean }), { code: 'BAD_ARGUMENT' });
    await alice.close();
    await bob.close();
  });

  it('a delivery receipt arriving after the read receipt never downgrades read', async () => {
    // Alice's socket holds the first deliver frame (Bob's delivery receipt) back until the next
    // one (his read receipt) has been handed over, as a relay with reordered mail would.
    let armed = false;
    let held: Uint8Array | null = null;
    const reordering: SocketFactory = (url, handlers) =>
      nodeSocketFactory(url, {
        ...handlers,
        onMessage(data) {
          let deliver = false;
          try {
            deliver = decodeRelayFrame(data).type === 'deliver';
          } catch {
            // not ours to judge
          }
          if (armed && deliver && held === null) {
            held = data;
            return;
          }
          handlers.onMessage(data);
          if (deliver && held !== null) {
            armed = false;
            const late = held;
            held = new Uint8Array(0);
            handlers.onMessage(late);
          }
        },
      });
    const h = homes();
    mkdirSync(h.alice, { recursive: true, mode: 0o700 });
    const aliceClient = await PigeonClient.create({
      store: openSqliteStore(join(h.alice, 'pigeon.db')),
      crypto: defaultBackend(),
      socketFactory: reordering,
      connection: TEST_TUNING,
      connectTimeoutMs: 5_000,
    });
    const { alice, bob, bobId, aliceId } = await connectedPair(relay.url, h, aliceClient);
    live.push(alice, bob);
    const states: string[] = [];
    alice.on('status', (m) => states.push(m.state));
    const received = nextEvent<StoredMessage>((fn) => bob.on('message', fn));
    armed = true;
    const sent = await alice.send(bobId, 'out of order');
    const m = await received;
    await bob.flush(); // the delivery receipt is at the relay (and held by Alice's socket)
    const read = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (x) => x.state === 'read');
    await bob.markRead([m.id]);
    await read;
    await barrier(alice, bob, aliceId);
    assert.ok(held !== null, 'the delivery receipt was held back and handed over late');
    assert.deepEqual(states.filter((s) => s !== 'sent'), ['read']);
    assert.equal(alice.messages(bobId).find((x) => x.id === sent.id)?.state, 'read');
    await alice.close();
    await bob.close();
  });
});
