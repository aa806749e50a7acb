/**
 * Group receipts, re-sent copies and rotated tokens (docs/protocol.md §12.6-12.8): real clients
 * against an in-process relay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_RECEIPT_IDS, decodeGroupPayload, encodeGroupPayload, isClientError } from '../src/index.node.js';
import type { GroupMessage } from '../src/index.node.js';
import { nextEvent, openClient, relayForFile, tempDir } from './helpers.js';
import { befriend, closeAll, makePerson, waitUntil } from './group-helpers.js';
import type { Person } from './group-helpers.js';

const root = tempDir('group-receipts');
const relay = relayForFile(root);

const texts = (p: Person, groupId: string) => (p.client.groups.list().some((g) => g.id === groupId) ? p.client.groups.messages(groupId).map((m) => m.text) : []);
const hasGroup = (p: Person, groupId: string, members?: number) => p.client.groups.list().some((g) => g.id === groupId && g.active && (members === undefined || g.members.length === members));
const stateOf = (p: Person, groupId: string, id: string) => p.client.groups.messages(groupId).find((m) => m.id === id)?.state;

/** Makes people with a logger that counts events by name. */
async function person(name: string): Promise<Person & { counts: Map<string, number> }> {
  const counts = new Map<string, number>();
  const p = await makePerson(root.path, relay.url, name, (event) => counts.set(event, (counts.get(event) ?? 0) + 1));
  return { ...p, counts };
}

/** Every member has the group and every member's key reached every other member (one message each). */
async function warmUp(people: readonly Person[], groupId: string): Promise<void> {
  await waitUntil(() => people.every((p) => hasGroup(p, groupId, people.length)), 'everyone joined');
  for (const p of people) {
    const text = `warm-up from ${p.name}`;
    await p.client.groups.send(groupId, text);
    await waitUntil(() => people.every((q) => texts(q, groupId).includes(text)), `${p.name} reached everyone`);
  }
}

describe('group receipt payload', () => {
  it('round-trips receipt and resend payloads and refuses empty or oversized receipts', () => {
    const id = new Uint8Array(16).fill(3);
    for (const p of [
      { kind: 'receipt', read: false, ids: [id] },
      { kind: 'receipt', read: true, ids: [id, new Uint8Array(16).fill(4)] },
      { kind: 'resend', groupId: new Uint8Array(32).fill(1), distributionId: new Uint8Array(16).fill(2), iteration: 7, epoch: 3 },
    ] as const) {
      assert.deepEqual(decodeGroupPayload(encodeGroupPayload(p)), p);
    }
    assert.throws(() => encodeGroupPayload({ kind: 'receipt', read: true, ids: [] }), (e) => isClientError(e, 'BAD_ARGUMENT'));
    const tooMany = Array.from({ length: MAX_RECEIPT_IDS + 1 }, () => id);
    assert.throws(() => encodeGroupPayload({ kind: 'receipt', read: true, ids: tooMany }), (e) => isClientError(e, 'BAD_ARGUMENT'));
  });
});

describe('group delivery and read receipts', () => {
  let alice: Awaited<ReturnType<typeof person>>, bob: Awaited<ReturnType<typeof person>>, carol: Awaited<ReturnType<typeof person>>;
  let groupId = '';
  before(async () => {
    alice = await person('alice');
    bob = await person('bob');
    carol = await person('carol');
    await befriend(alice, bob);
    await befriend(alice, carol);
    groupId = (await alice.client.groups.create('Readers', [bob.id, carol.id])).id;
    await warmUp([alice, bob, carol], groupId);
  });
  after(() => closeAll([alice, bob, carol]));

  it('moves our message sent -> delivered (every member) -> read (every member), with per-member detail', async () => {
    const statuses: GroupMessage[] = [];
    const off = alice.client.groups.on('status', (m) => statuses.push(m));
    const delivered = nextEvent<GroupMessage>((fn) => alice.client.groups.on('status', fn), (m) => m.text === 'did you get it?' && m.state === 'delivered');
    const sent = await alice.client.groups.send(groupId, 'did you get it?');
    assert.equal(sent.state, 'queued');
    await delivered;
    const detail = alice.client.groups.receipts(sent.id);
    assert.deepEqual(detail.map((r) => [r.memberId, r.delivered, r.read]).sort(), [[bob.id, true, false], [carol.id, true, false]].sort());
    assert.ok(detail.every((r) => r.at !== null));

    // Bob reads: one member is not enough for 'read'.
    await bob.client.groups.markRead([sent.id]);
    await waitUntil(() => alice.client.groups.receipts(sent.id).some((r) => r.memberId === bob.id && r.read), 'bob read it, at alice');
    assert.equal(stateOf(alice, groupId, sent.id), 'delivered');
    const read = nextEvent<GroupMessage>((fn) => alice.client.groups.on('status', fn), (m) => m.id === sent.id && m.state === 'read');
    await carol.client.groups.markRead([sent.id]);
    await read;
    assert.equal(stateOf(alice, groupId, sent.id), 'read');
    assert.ok(alice.client.groups.receipts(sent.id).every((r) => r.delivered && r.read));
    off();
    const mine = statuses.filter((m) => m.id === sent.id).map((m) => m.state);
    assert.deepEqual(mine.filter((s, i) => s !== mine[i - 1]), mine, 'each status event is a change');
    assert.ok(mine.indexOf('delivered') < mine.indexOf('read'));
    assert.throws(() => bob.client.groups.receipts(sent.id), (e) => isClientError(e, 'BAD_ARGUMENT'));
    assert.throws(() => alice.client.groups.receipts('00'.repeat(16)), (e) => isClientError(e, 'UNKNOWN_MESSAGE'));
  });

  it('markRead sends ONE read receipt per author for a batch (even across messages), none for messages already read', async () => {
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) ids.push((await alice.client.groups.send(groupId, text)).id);
    await waitUntil(() => ['one', 'two', 'three'].every((t) => texts(bob, groupId).includes(t)), 'bob got three');
    await waitUntil(() => ids.every((id) => stateOf(alice, groupId, id) === 'delivered' || stateOf(alice, groupId, id) === 'read'), 'delivered');
    const before = alice.counts.get('group.receipt_in') ?? 0;
    const allRead = () => ids.every((id) => alice.client.groups.receipts(id).some((r) => r.memberId === bob.id && r.read));
    await bob.client.groups.markRead([...ids, ids[0]!]);
    await waitUntil(allRead, 'bob read all three at alice');
    assert.equal((alice.counts.get('group.receipt_in') ?? 0) - before, 1, 'one receipt for three messages');
    // Marking them again sends nothing: a later barrier message proves no receipt is in flight.
    await bob.client.groups.markRead(ids);
    await bob.client.groups.send(groupId, 'barrier-1');
    await waitUntil(() => texts(alice, groupId).includes('barrier-1'), 'barrier');
    assert.equal((alice.counts.get('group.receipt_in') ?? 0) - before, 1);
  });

  it('honours the settings: no read receipts sent with ours off, and theirs then count as delivered only (reciprocal)', async () => {
    carol.client.setReceiptSettings({ readReceipts: false });
    try {
      const m = await alice.client.groups.send(groupId, 'private reading');
      await waitUntil(() => texts(carol, groupId).includes('private reading') && texts(bob, groupId).includes('private reading'), 'arrived');
      await carol.client.groups.markRead([m.id]);
      await bob.client.groups.markRead([m.id]);
      await carol.client.groups.send(groupId, 'barrier-2');
      await waitUntil(() => texts(alice, groupId).includes('barrier-2') && alice.client.groups.receipts(m.id).some((r) => r.memberId === bob.id && r.read), 'barrier');
      const carolAtAlice = alice.client.groups.receipts(m.id).find((r) => r.memberId === carol.id)!;
      assert.equal(carolAtAlice.delivered, true);
      assert.equal(carolAtAlice.read, false, 'carol sent no read receipt');
      assert.equal(stateOf(alice, groupId, m.id), 'delivered');

      // Carol's own message: with her read receipts off, Bob's read receipt is shown as delivered.
      const hers = await carol.client.groups.send(groupId, 'from carol');
      await waitUntil(() => texts(bob, groupId).includes('from carol') && texts(alice, groupId).includes('from carol'), 'arrived');
      await bob.client.groups.markRead([hers.id]);
      await alice.client.groups.markRead([hers.id]);
      await bob.client.groups.send(groupId, 'barrier-3');
      await alice.client.groups.send(groupId, 'barrier-4');
      await waitUntil(() => texts(carol, groupId).includes('barrier-3') && texts(carol, groupId).includes('barrier-4'), 'barrier');
      assert.ok(carol.client.groups.receipts(hers.id).every((r) => r.delivered && !r.read));
      assert.equal(stateOf(carol, groupId, hers.id), 'delivered');
    } finally {
      carol.client.setReceiptSettings({ readReceipts: true });
    }
  });

  it('with delivery receipts off a member sends none: the message stays sent', async () => {
    bob.client.setReceiptSettings({ deliveryReceipts: false });
    try {
      const m = await alice.client.groups.send(groupId, 'quiet delivery');
      await waitUntil(() => texts(bob, groupId).includes('quiet delivery') && texts(carol, groupId).includes('quiet delivery'), 'arrived');
      await bob.client.groups.send(groupId, 'barrier-5');
      await waitUntil(() => texts(alice, groupId).includes('barrier-5') && alice.client.groups.receipts(m.id).some((r) => r.memberId === carol.id), 'barrier');
      assert.equal(alice.client.groups.receipts(m.id).find((r) => r.memberId === bob.id)!.delivered, false);
      assert.equal(stateOf(alice, groupId, m.id), 'sent');
    } finally {
      bob.client.setReceiptSettings({ deliveryReceipts: true });
    }
  });

  it('keeps receipts and states across a restart (SQLite)', async () => {
    const m = await alice.client.groups.send(groupId, 'before restart');
    await waitUntil(() => stateOf(alice, groupId, m.id) === 'delivered', 'delivered');
    await alice.client.close();
    const reopened = await openClient(alice.home);
    try {
      assert.equal(reopened.groups.messages(groupId).find((x) => x.id === m.id)!.state, 'delivered');
      assert.equal(reopened.groups.receipts(m.id).filter((r) => r.delivered).length, 2);
    } finally {
      await reopened.close();
    }
    alice = { ...alice, client: await openClient(alice.home) };
    await alice.client.connect();
  });
});

describe('a member removed before its receipt', () => {
  it('no longer holds our message back: it moves to delivered when the member leaves', async () => {
    const dora = await person('dora');
    const eli = await person('eli');
    const fay = await person('fay');
    try {
      await befriend(dora, eli);
      await befriend(dora, fay);
      const id = (await dora.client.groups.create('Leavers', [eli.id, fay.id])).id;
      await warmUp([dora, eli, fay], id);
      eli.client.setReceiptSettings({ deliveryReceipts: false });
      const m = await dora.client.groups.send(id, 'waiting for eli');
      await waitUntil(() => dora.client.groups.receipts(m.id).some((r) => r.memberId === fay.id && r.delivered), 'fay got it');
      assert.equal(stateOf(dora, id, m.id), 'sent');
      const moved = nextEvent<GroupMessage>((fn) => dora.client.groups.on('status', fn), (x) => x.id === m.id && x.state === 'delivered');
      await dora.client.groups.remove(id, [eli.id]);
      await moved;
      assert.equal(stateOf(dora, id, m.id), 'delivered');
    } finally {
      await closeAll([dora, eli, fay]);
    }
  });
});

describe('a message crossing a membership change', () => {
  it('is re-sent under the new key to members that saw the removal first; the removed member reads nothing new', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const carol = await person('carol');
    const dave = await person('dave');
    await befriend(alice, bob);
    await befriend(alice, carol);
    await befriend(alice, dave);
    const groupId = (await alice.client.groups.create('Crossing', [bob.id, carol.id, dave.id])).id;
    let bobClient = bob.client;
    try {
      await warmUp([alice, bob, carol, dave], groupId);
      // Bob goes offline; Alice removes Dave (a rekey) and Carol applies it.
      await bob.client.close();
      await alice.client.groups.remove(groupId, [dave.id]);
      await waitUntil(() => hasGroup(carol, groupId, 3) && !hasGroup(dave, groupId), 'carol saw the removal, dave left');
      // Bob, not having seen the removal, sends under his old key (to the old roster).
      bobClient = await openClient(bob.home);
      const crossing = await bobClient.groups.send(groupId, 'crossing the removal');
      assert.equal(bobClient.groups.find(groupId).members.length, 4, 'bob has not seen the removal yet');
      await bobClient.connect();
      await waitUntil(() => texts(alice, groupId).includes('crossing the removal') && texts(carol, groupId).includes('crossing the removal'), 'alice and carol got it');
      assert.ok(carol.counts.get('group.resend_asked')! >= 1, 'carol asked for it again');
      for (const p of [alice, carol]) {
        const copies = p.client.groups.messages(groupId).filter((m) => m.id === crossing.id);
        assert.equal(copies.length, 1, `${p.name} stores it once`);
        assert.equal(copies[0]!.senderId, bob.id);
      }
      // Everyone keeps talking under the new keys; Dave, removed, gets nothing after his removal.
      await bobClient.groups.send(groupId, 'after the change');
      await waitUntil(() => texts(alice, groupId).includes('after the change') && texts(carol, groupId).includes('after the change'), 'after');
      await waitUntil(() => bobClient.groups.messages(groupId).find((m) => m.id === crossing.id)!.state === 'delivered', 'bob sees it delivered');
      assert.ok(!texts(dave, groupId).includes('after the change'));
    } finally {
      await closeAll([alice, carol, dave]);
      await bobClient.close();
    }
  });
});

describe('a member who rotated its delivery token', () => {
  it('sends its own card to newcomers, replacing an older card of it, so their group sends reach it', async () => {
    const alice = await person('alice');
    const carol = await person('carol');
    const nick = await person('nick');
    const zed = await person('zed');
    try {
      await befriend(alice, carol);
      await befriend(alice, nick);
      // Nick got Carol's card (her invite) before her rotation, but is not her contact: the invite
      // was already used by Zed, so his introduction is only a message request there.
      const { link } = await carol.client.createInvite();
      const zedKnown = nextEvent<{ id: string }>((fn) => carol.client.on('contact', fn), (c) => c.id === zed.id);
      await zed.client.acceptInvite(link);
      await zed.client.flush();
      await zedKnown;
      await nick.client.acceptInvite(link);
      await nick.client.flush();
      const groupId = (await alice.client.groups.create('Tokens', [carol.id])).id;
      await warmUp([alice, carol], groupId);
      await waitUntil(() => carol.client.requests().some((r) => r.id === nick.id), 'nick is a request at carol');

      // Carol rotates her token (blocking Zed): her contacts learn it, Nick (a request) does not.
      const rotated = await carol.client.block(zed.id);
      assert.deepEqual(rotated, { tokenRotated: true, tokenSharedWith: 1 });
      // Barrier: Alice has Carol's new token (it came before this message).
      await carol.client.groups.send(groupId, 'new token');
      await waitUntil(() => texts(alice, groupId).includes('new token'), 'alice has the new token');

      // The admin's fresh card of Carol does not override Nick's contact: only Carol's own card does.
      await alice.client.groups.add(groupId, [nick.id]);
      await waitUntil(() => hasGroup(nick, groupId, 3) && hasGroup(carol, groupId, 3), 'nick joined, carol saw it');
      await carol.client.groups.send(groupId, 'welcome nick');
      await waitUntil(() => texts(nick, groupId).includes('welcome nick'), 'nick got carol');
      assert.ok((nick.counts.get('group.card_refreshed') ?? 0) >= 1, "nick took carol's own card");

      await nick.client.groups.send(groupId, 'hello from nick');
      await waitUntil(() => texts(carol, groupId).includes('hello from nick') && texts(alice, groupId).includes('hello from nick'), 'nick reached carol and alice');
    } finally {
      await closeAll([alice, carol, nick, zed]);
    }
  });
});
