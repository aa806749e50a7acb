import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { decodeRelayFrame } from '@pigeon/api';
import { defaultBackend, fromHex, toHex } from '@pigeon/crypto';
import { decodeDeviceKeys } from '@pigeon/protocol';
import {
  MAX_TEXT_BYTES,
  PREKEY_BATCH,
  PREKEY_LOW_WATER,
  PigeonClient,
  RelayConnection,
  decodeInviteLink,
  nodeSocketFactory,
  openSqliteStore,
} from '../src/index.node.js';
import type { Contact, SocketFactory, StoredMessage } from '../src/index.node.js';
import { TEST_TUNING, nextEvent, openClient, startRelay, tempDir } from './helpers.js';
import type { TestRelay } from './helpers.js';

const root = tempDir('client');
after(() => root.remove());
let homes = 0;
const newHome = () => join(root.path, `home-${homes++}`);

interface Pair {
  relay: TestRelay;
  alice: PigeonClient;
  bob: PigeonClient;
  /** Bob as Alice's contact, and Alice as Bob's. */
  bobAtAlice: Contact;
  aliceAtBob: Contact;
  aliceHome: string;
  bobHome: string;
}

async function makePair(relay: TestRelay, options: { bobFactory?: SocketFactory; bobLogger?: (event: string) => void } = {}): Promise<Pair> {
  const aliceHome = newHome();
  const bobHome = newHome();
  const alice = await openClient(aliceHome);
  const bob = options.bobFactory
    ? await (async () => {
        const c = await PigeonClient.create({
          store: openSqliteStore(join(mkdir(bobHome), 'pigeon.db')),
          crypto: defaultBackend(),
          socketFactory: options.bobFactory!,
          connection: TEST_TUNING,
          connectTimeoutMs: 5_000,
          logger: options.bobLogger,
        });
        return c;
      })()
    : await openClient(bobHome);
  await alice.init({ relayUrl: relay.url, displayName: 'Alice' });
  await bob.init({ relayUrl: relay.url, displayName: 'Bob' });
  await alice.connect();
  await bob.connect();
  const { link } = await alice.createInvite();
  const contactEvent = nextEvent<Contact>((fn) => alice.on('contact', fn));
  const aliceAtBob = await bob.acceptInvite(link);
  await bob.flush();
  const bobAtAlice = await contactEvent;
  // Alice's account token for Bob (he came in through the invite's own token) is on its way.
  await alice.flush();
  return { relay, alice, bob, bobAtAlice, aliceAtBob, aliceHome, bobHome };
}

function mkdir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

async function closeAll(...clients: PigeonClient[]): Promise<void> {
  for (const c of clients) await c.close();
}

describe('PigeonClient with a relay', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
  });
  after(async () => {
    await relay.stop();
  });

  it('requires init before use and refuses a second init', async () => {
    const c = await openClient(newHome());
    assert.equal(c.isInitialized(), false);
    assert.throws(() => c.profile(), { code: 'NOT_INITIALIZED' });
    assert.throws(() => c.contacts(), { code: 'NOT_INITIALIZED' });
    await assert.rejects(c.createInvite(), { code: 'NOT_INITIALIZED' });
    const p = await c.init({ relayUrl: relay.url, displayName: ' Carol ' });
    assert.equal(p.displayName, 'Carol');
    assert.match(p.accountId, /^[0-9a-f]{32}$/);
    await assert.rejects(c.init({ relayUrl: relay.url, displayName: 'Carol' }), { code: 'ALREADY_INITIALIZED' });
    await c.close();
    assert.throws(() => c.profile(), { code: 'CLOSED' });
  });

  it('keeps the identity across restarts', async () => {
    const home = newHome();
    const c = await openClient(home);
    const p = await c.init({ relayUrl: relay.url, displayName: 'Dan' });
    await c.close();
    const again = await openClient(home);
    assert.deepEqual(again.profile(), p);
    await again.connect();
    assert.equal(again.connectionState(), 'connected');
    await again.close();
  });

  it('invite/accept, chat both ways, queued -> sent -> delivered, equal safety numbers', async () => {
    const { alice, bob, bobAtAlice, aliceAtBob } = await makePair(relay);
    assert.equal(bobAtAlice.name, 'Bob');
    assert.equal(aliceAtBob.name, 'Alice');
    assert.equal(bobAtAlice.id, bob.profile().accountId);
    assert.equal(aliceAtBob.pigeonId, alice.profile().pigeonId);

    const states: string[] = [];
    alice.on('status', (m) => states.push(m.state));
    const received = nextEvent<StoredMessage>((fn) => bob.on('message', fn));
    const delivered = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (m) => m.state === 'delivered');
    const sent = await alice.send(bobAtAlice.id, 'hello Bob');
    assert.equal(sent.state, 'queued');
    const m = await received;
    assert.equal(m.text, 'hello Bob');
    assert.equal(m.id, sent.id);
    assert.equal(m.contactId, aliceAtBob.id);
    await delivered;
    assert.deepEqual(states, ['sent', 'delivered']);
    assert.equal(alice.messages(bobAtAlice.id).at(-1)?.state, 'delivered');

    const back = nextEvent<StoredMessage>((fn) => alice.on('message', fn));
    await bob.send(aliceAtBob.id, 'hi Alice');
    assert.equal((await back).text, 'hi Alice');
    assert.deepEqual(alice.unread().map((x) => x.text), ['hi Alice']);
    alice.markRead(alice.unread().map((x) => x.id));
    assert.deepEqual(alice.unread(), []);
    assert.deepEqual(bob.messages(aliceAtBob.id).map((x) => x.text), ['hello Bob', 'hi Alice']);

    const a = await alice.safetyNumber(bobAtAlice.id);
    const b = await bob.safetyNumber(aliceAtBob.id);
    assert.equal(a.digits.length, 60);
    assert.equal(a.digits, b.digits);
    assert.equal(a.display, b.display);
    // Each side scans the other's QR code: the SDK's comparison accepts it, and refuses its own.
    assert.equal(await alice.verifySafetyNumberQr(bobAtAlice.id, b.qrPayload), true);
    assert.equal(await bob.verifySafetyNumberQr(aliceAtBob.id, a.qrPayload), true);
    assert.equal(await alice.verifySafetyNumberQr(bobAtAlice.id, a.qrPayload), false);
    alice.setVerified(bobAtAlice.id, true);
    assert.equal(alice.findContact('bob').verified, true);
    await closeAll(alice, bob);
  });

  it('delivers to a recipient that was offline', async () => {
    const { alice, bob, bobAtAlice, bobHome } = await makePair(relay);
    await bob.close();
    const sent = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (m) => m.state === 'sent');
    await alice.send(bobAtAlice.id, 'while you were away');
    await alice.flush();
    await sent;
    const delivered = nextEvent<StoredMessage>((fn) => alice.on('status', fn), (m) => m.state === 'delivered');
    const bob2 = await openClient(bobHome);
    const events: StoredMessage[] = [];
    bob2.on('message', (m) => events.push(m));
    await bob2.connect();
    await bob2.sync();
    assert.deepEqual(events.map((m) => m.text), ['while you were away']);
    assert.deepEqual(bob2.unread().map((m) => m.text), ['while you were away']);
    await delivered;
    await closeAll(alice, bob2);
  });

  it('a message queued while the relay is down goes out once after it restarts', async () => {
    const own = await startRelay(join(root.path, 'relay-restart'));
    const { alice, bob, bobAtAlice } = await makePair(own);
    await own.stop();
    const message = await alice.send(bobAtAlice.id, 'sent during the outage');
    assert.equal(message.state, 'queued');
    assert.equal(alice.outboxSize(), 1);
    await assert.rejects(alice.flush(300), { code: 'RELAY_UNREACHABLE' });
    const events: StoredMessage[] = [];
    bob.on('message', (m) => events.push(m));
    const received = nextEvent<StoredMessage>((fn) => bob.on('message', fn));
    await own.restart();
    await alice.flush(10_000);
    assert.equal(alice.outboxSize(), 0);
    assert.equal((await received).text, 'sent during the outage');
    await bob.sync();
    assert.equal(events.length, 1);
    await closeAll(alice, bob);
    await own.stop();
  });

  it('duplicate deliver frames produce one message event', async () => {
    // Bob's socket hands every deliver frame to the client twice, as a relay would after a lost ack.
    const duplicating: SocketFactory = (url, handlers) =>
      nodeSocketFactory(url, {
        ...handlers,
        onMessage(data) {
          handlers.onMessage(data);
          try {
            if (decodeRelayFrame(data).type === 'deliver') handlers.onMessage(data);
          } catch {
            // not ours to judge
          }
        },
      });
    const logged: string[] = [];
    const { alice, bob, bobAtAlice, aliceAtBob } = await makePair(relay, { bobFactory: duplicating, bobLogger: (e) => logged.push(e) });
    const events: StoredMessage[] = [];
    const allThree = new Promise<void>((resolve) =>
      bob.on('message', (m) => {
        events.push(m);
        if (events.length === 3) resolve();
      }),
    );
    for (const text of ['one', 'two', 'three']) {
      await alice.send(bobAtAlice.id, text);
    }
    await alice.flush();
    await allThree;
    // A later round trip proves no late duplicate event is still on its way.
    const barrier = nextEvent<StoredMessage>((fn) => alice.on('message', fn));
    await bob.send(aliceAtBob.id, 'barrier');
    await barrier;
    assert.ok(logged.filter((e) => e === 'inbox.duplicate').length >= 3, 'the copies reached the client');
    assert.deepEqual(events.map((m) => m.text), ['one', 'two', 'three']);
    assert.equal(bob.messages(aliceAtBob.id).filter((m) => m.direction === 'in').length, 3);
    await closeAll(alice, bob);
  });

  it('accepts an invite only once; strangers are dropped', async () => {
    const alice = await openClient(newHome());
    const bob = await openClient(newHome());
    const eve = await openClient(newHome());
    await alice.init({ relayUrl: relay.url, displayName: 'Alice' });
    await bob.init({ relayUrl: relay.url, displayName: 'Bob' });
    await eve.init({ relayUrl: relay.url, displayName: 'Eve' });
    await alice.connect();
    const { link } = await alice.createInvite();
    const first = nextEvent<Contact>((fn) => alice.on('contact', fn));
    await bob.acceptInvite(link, { name: 'My Alice' });
    await bob.flush();
    await first;
    assert.equal(bob.findContact('my alice').name, 'My Alice');
    // Eve replays the used link: her introduction must not make her a contact.
    await eve.acceptInvite(link);
    await eve.flush();
    await alice.sync();
    // Bob writes after Eve: once Bob's message is in, Eve's introduction has been processed.
    const barrier = nextEvent<StoredMessage>((fn) => alice.on('message', fn));
    await bob.send(bob.findContact('My Alice').id, 'after eve');
    await barrier;
    assert.deepEqual(alice.contacts().map((c) => c.name), ['Bob']);
    await closeAll(alice, bob, eve);
  });

  it('refuses bad links, unknown contacts, overlong messages, own invites', async () => {
    const alice = await openClient(newHome());
    await alice.init({ relayUrl: relay.url, displayName: 'Alice' });
    for (const bad of ['', 'pigeon://invite/', 'pigeon://invite/AAAA', 'https://example.org', 'pigeon://invite/%%%']) {
      await assert.rejects(alice.acceptInvite(bad), { code: 'BAD_LINK' });
    }
    const { link } = await alice.createInvite();
    await assert.rejects(alice.acceptInvite(link), { code: 'BAD_LINK' });
    assert.throws(() => alice.findContact('nobody'), { code: 'UNKNOWN_CONTACT' });
    await assert.rejects(alice.send('nobody', 'hi'), { code: 'UNKNOWN_CONTACT' });
    assert.throws(() => alice.renameContact('00', 'x'), { code: 'UNKNOWN_CONTACT' });
    await closeAll(alice);

    const { alice: a2, bob, bobAtAlice } = await makePair(relay);
    await assert.rejects(a2.send(bobAtAlice.id, 'x'.repeat(MAX_TEXT_BYTES + 1)), { code: 'MESSAGE_TOO_LONG' });
    await assert.rejects(a2.send(bobAtAlice.id, ''), { code: 'BAD_ARGUMENT' });
    await a2.send(bobAtAlice.id, 'x'.repeat(MAX_TEXT_BYTES));
    await a2.flush();
    await closeAll(a2, bob);
  });

  it('reports an unreachable relay', async () => {
    const dead = await startRelay(join(root.path, 'relay-dead'));
    await dead.stop();
    const c = await openClient(newHome(), { connectTimeoutMs: 500 });
    await assert.rejects(c.init({ relayUrl: dead.url, displayName: 'X' }), { code: 'RELAY_UNREACHABLE' });
    assert.equal(c.isInitialized(), false);
    await c.close();

    const alice = await openClient(newHome(), { connectTimeoutMs: 500 });
    const own = await startRelay(join(root.path, 'relay-dead-2'));
    await alice.init({ relayUrl: own.url, displayName: 'A' });
    await own.stop();
    await assert.rejects(alice.connect({ timeoutMs: 300 }), { code: 'RELAY_UNREACHABLE' });
    await assert.rejects(alice.acceptInvite((await alice.createInvite()).link.replace('A', 'A')), { code: 'BAD_LINK' });
    await alice.close();
  });

  it('never exposes private keys through JSON or inspect', async () => {
    const home = newHome();
    const c = await openClient(home);
    await c.init({ relayUrl: relay.url, displayName: 'Secretive' });
    const store = openSqliteStore(join(home, 'pigeon.db'));
    const device = decodeDeviceKeys(store.getIdentity()!.deviceKeys);
    store.close();
    const secrets = [toHex(device.signing.secretKey), toHex(device.identity.secretKey)];
    const views = [JSON.stringify(c), inspect(c, { depth: Infinity, showHidden: true }), String(c)];
    const logged: string[] = [];
    const withLog = await openClient(home, { logger: (e, f) => logged.push(e + JSON.stringify(f ?? {})) });
    await withLog.connect();
    await withLog.createInvite();
    views.push(...logged);
    for (const v of views) for (const s of secrets) assert.ok(!v.includes(s));
    await closeAll(c, withLog);
  });

  it('tops up one-time prekeys when the relay runs low and deletes consumed ones', async () => {
    const home = newHome();
    let toppedUp!: (fields: Record<string, unknown>) => void;
    const topUp = new Promise<Record<string, unknown>>((r) => (toppedUp = r));
    const alice = await openClient(home, { logger: (e, f) => e === 'prekeys.topped_up' && toppedUp(f ?? {}) });
    await alice.init({ relayUrl: relay.url, displayName: 'Alice' });
    const invite = decodeInviteLink((await alice.createInvite()).link);
    const drain = PREKEY_BATCH - PREKEY_LOW_WATER + 1;
    // Strangers with the token fetch bundles; each fetch consumes one one-time prekey of each kind.
    const conn = new RelayConnection({ url: relay.url, label: 'drain', socketFactory: nodeSocketFactory });
    conn.start();
    await conn.waitConnected(5_000);
    for (let i = 0; i < drain; i++) {
      await conn.request({ type: 'fetch_bundles', accountId: fromHex(alice.profile().accountId), deliveryToken: invite.deliveryToken });
    }
    conn.stop();
    await alice.connect();
    assert.deepEqual(await topUp, { oneTime: drain, kem: drain });

    const count = (kind: string) => {
      const s = openSqliteStore(join(home, 'pigeon.db'));
      const n = (s.db.prepare('SELECT COUNT(*) AS n FROM prekeys WHERE kind = ?').get(kind) as { n: number }).n;
      s.close();
      return n;
    };
    const oneTimeBefore = count('one_time');
    const kemBefore = count('kem');
    assert.equal(oneTimeBefore, PREKEY_BATCH + drain);
    const bob = await openClient(newHome());
    await bob.init({ relayUrl: relay.url, displayName: 'Bob' });
    const contact = nextEvent<Contact>((fn) => alice.on('contact', fn));
    await bob.acceptInvite((await alice.createInvite()).link);
    await bob.flush();
    await contact;
    assert.equal(count('one_time'), oneTimeBefore - 1);
    assert.equal(count('kem'), kemBefore - 1);
    await closeAll(alice, bob);
  });
});
