import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Contact, PigeonClient, SafetyEvent, StoredMessage } from '../src/index.node.js';
import { connectedPair, newDeviceOf, nextEvent, openClient, startRelay, tempDir } from './helpers.js';
import type { TestRelay } from './helpers.js';

const live: PigeonClient[] = [];
const root = tempDir('keychange');
after(() => root.remove());

describe('key change: a contact presents a device we have not seen', () => {
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

  it('records a safety event, drops verified, blocks send until acknowledged', async () => {
    const homes = { alice: join(root.path, 'alice'), bob: join(root.path, 'bob') };
    const { alice, bob, bobId, aliceId } = await connectedPair(relay.url, homes);
    live.push(alice, bob);
    // Ordinary traffic from the known device changes nothing.
    const first = nextEvent<StoredMessage>((fn) => alice.on('message', fn));
    await bob.send(aliceId, 'from my old phone');
    await first;
    alice.setVerified(bobId, true);
    assert.equal(alice.findContact(bobId).keyChanged, false);
    assert.deepEqual(alice.safetyEvents(bobId), []);

    // Bob's account gets a new device, which writes to Alice.
    const bobNew = await newDeviceOf(homes.bob, join(root.path, 'bob-new'));
    live.push(bobNew);
    const safety = nextEvent<SafetyEvent>((fn) => alice.on('safety', fn));
    const contactEvent = nextEvent<Contact>((fn) => alice.on('contact', fn), (c) => c.keyChanged);
    const fromNew = nextEvent<StoredMessage>((fn) => alice.on('message', fn));
    await bobNew.send(aliceId, 'from my new phone');
    await bobNew.flush();
    const event = await safety;
    assert.equal(event.kind, 'key_changed');
    assert.equal(event.contactId, bobId);
    assert.equal(event.acknowledged, false);
    assert.equal(event.deviceId, bobNew.profile().deviceId);
    assert.equal((await contactEvent).verified, false);
    // The message itself is shown (as Signal does); only sending is blocked.
    assert.equal((await fromNew).text, 'from my new phone');
    assert.equal(alice.findContact(bobId).verified, false);
    assert.equal(alice.findContact(bobId).keyChanged, true);
    await assert.rejects(alice.send(bobId, 'are you really Bob?'), { code: 'IDENTITY_CHANGED' });
    assert.equal(alice.messages(bobId).filter((m) => m.direction === 'out').length, 0, 'nothing stored or queued');

    // The block survives a restart.
    await alice.close();
    const alice2 = await openClient(homes.alice);
    live.push(alice2);
    await alice2.connect();
    await assert.rejects(alice2.send(bobId, 'still blocked'), { code: 'IDENTITY_CHANGED' });
    assert.equal(alice2.safetyEvents(bobId).length, 1);

    const acknowledged = alice2.acknowledgeKeyChange(bobId);
    assert.equal(acknowledged.keyChanged, false);
    assert.deepEqual(alice2.safetyEvents(bobId).map((e) => e.acknowledged), [true]);
    const atOldDevice = nextEvent<StoredMessage>((fn) => bob.on('message', fn));
    const welcome = await alice2.send(bobId, 'welcome back');
    assert.equal((await atOldDevice).text, 'welcome back');
    // The new device is not registered at the relay, which refuses its copy for good: the
    // message still counts as sent, because the old device's copy was accepted.
    await alice2.flush();
    assert.notEqual(alice2.messages(bobId).find((m) => m.id === welcome.id)?.state, 'failed');
    assert.notEqual(alice2.messages(bobId).find((m) => m.id === welcome.id)?.state, 'queued');

    // A second message from the same new device is not a new change.
    const again = nextEvent<StoredMessage>((fn) => alice2.on('message', fn));
    await bobNew.send(aliceId, 'me again');
    await bobNew.flush();
    await again;
    assert.equal(alice2.findContact(bobId).keyChanged, false);
    assert.equal(alice2.safetyEvents(bobId).length, 1);
    await alice2.close();
    await bob.close();
    await bobNew.close();
  });

  it('marking the contact verified also acknowledges; unknown contacts are refused', async () => {
    const homes = { alice: join(root.path, 'alice-2'), bob: join(root.path, 'bob-2') };
    const { alice, bob, bobId, aliceId } = await connectedPair(relay.url, homes);
    live.push(alice, bob);
    const bobNew = await newDeviceOf(homes.bob, join(root.path, 'bob-2-new'));
    live.push(bobNew);
    const safety = nextEvent<SafetyEvent>((fn) => alice.on('safety', fn));
    await bobNew.send(aliceId, 'new device');
    await bobNew.flush();
    await safety;
    await assert.rejects(alice.send(bobId, 'x'), { code: 'IDENTITY_CHANGED' });
    alice.setVerified(bobId, true);
    assert.equal(alice.findContact(bobId).keyChanged, false);
    await alice.send(bobId, 'verified again');
    assert.throws(() => alice.acknowledgeKeyChange('00'), { code: 'UNKNOWN_CONTACT' });
    assert.throws(() => alice.safetyEvents('00'), { code: 'UNKNOWN_CONTACT' });
    await alice.close();
    await bob.close();
    await bobNew.close();
  });
});
