/**
 * "Receipts, edits, deletes and timers behave the same on every device of both parties" (issue 6),
 * with two linked devices per party: contacts fan out to all our devices; what we do on one device
 * reaches our others as message-life `sync`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PigeonClient } from '../src/index.node.js';
import { openClient, relayForFile, tempDir } from './helpers.js';
import { befriend, closeAll, makePerson, waitUntil } from './group-helpers.js';
import type { Person } from './group-helpers.js';

const root = tempDir('life-devices');
const relay = relayForFile(root);

async function link(existing: Person, name: string): Promise<Person> {
  const home = join(root.path, `${name}-${Math.random().toString(16).slice(2)}`);
  const client = await openClient(home);
  const session = await client.devices.startLink({ relayUrl: relay.url });
  await existing.client.devices.add(session.linkCode);
  await session.account;
  const profile = await session.confirm();
  await client.connect();
  await client.devices.announce();
  await client.flush();
  return { name, client, home, id: profile.accountId };
}

/**
 * A device that first meets a contact's linked device without holding its signed list sees a key
 * change (devices/); the user acknowledges it, as here.
 */
function acknowledgeAll(people: readonly Person[]): void {
  for (const p of people) for (const c of p.client.contacts()) if (c.keyChanged) p.client.acknowledgeKeyChange(c.id);
}

const find = (c: PigeonClient, contactId: string, text: string) => c.messages(contactId).find((m) => m.text === text || m.quote === text);

describe('message life on two devices per party', () => {
  let a1: Person, a2: Person, b1: Person, b2: Person;
  before(async () => {
    a1 = await makePerson(root.path, relay.url, 'alice');
    b1 = await makePerson(root.path, relay.url, 'bob');
    await befriend(a1, b1);
    a2 = await link(a1, 'alice-2');
    b2 = await link(b1, 'bob-2');
    // Each side's first device learns the other's new device list through a message both ways.
    // (A device learns a contact's device it has no session with when that device first writes:
    // every device says hello once, as people do after linking.)
    await a1.client.send(b1.id, 'hello bob');
    await b1.client.send(a1.id, 'hello alice');
    await a2.client.send(b1.id, 'hello bob from 2');
    await waitUntil(() => find(b2.client, a1.id, 'hello bob from 2') !== undefined, 'bob-2 has a session with alice-2');
    acknowledgeAll([a1, a2, b1, b2]);
    await b2.client.send(a1.id, 'hello alice from 2');
    await waitUntil(
      () =>
        [a1, a2].every((p) => find(p.client, b1.id, 'hello alice') && find(p.client, b1.id, 'hello alice from 2')) &&
        [b1, b2].every((p) => find(p.client, a1.id, 'hello bob') && find(p.client, a1.id, 'hello bob from 2')),
      'hellos everywhere',
    );
  });
  after(async () => {
    await closeAll([a1, a2, b1, b2].filter(Boolean));
  });

  it('edits, deletes, reactions and timers look the same on all four devices', async () => {
    const all = () => [
      { c: a1.client, peer: b1.id },
      { c: a2.client, peer: b1.id },
      { c: b1.client, peer: a1.id },
      { c: b2.client, peer: a1.id },
    ];
    acknowledgeAll([a1, a2, b1, b2]);
    const m = await a1.client.send(b1.id, 'original');
    await waitUntil(() => all().every(({ c, peer }) => c.messages(peer).some((x) => x.id === m.id)), 'the message on every device');

    await a1.client.edit(m.id, 'edited once');
    await waitUntil(() => all().every(({ c, peer }) => c.messages(peer).find((x) => x.id === m.id)?.text === 'edited once'), 'the edit on every device');
    assert.ok(all().every(({ c, peer }) => c.messages(peer).find((x) => x.id === m.id)?.edited === true));

    await b2.client.react(m.id, '👍');
    await waitUntil(() => all().every(({ c, peer }) => c.messages(peer).find((x) => x.id === m.id)?.reactions?.[0]?.emoji === '👍'), 'the reaction on every device');

    await b1.client.setDisappearingTimer(a1.id, 3_600_000);
    await waitUntil(() => all().every(({ c, peer }) => c.disappearingTimer(peer) === 3_600_000), 'the timer on every device');
    const timed = await a2.client.send(b1.id, 'timed from the second device');
    assert.equal(timed.timerMs, 3_600_000);
    await waitUntil(() => all().every(({ c, peer }) => c.messages(peer).find((x) => x.id === timed.id)?.timerMs === 3_600_000), 'the timed text on every device');

    await a1.client.deleteForEveryone(m.id);
    await waitUntil(() => all().every(({ c, peer }) => c.messages(peer).find((x) => x.id === m.id)?.deleted === true), 'the tombstone on every device');
    assert.ok(all().every(({ c, peer }) => c.messages(peer).find((x) => x.id === m.id)?.reactions === undefined));
  });
});
