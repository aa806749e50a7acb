/**
 * Message life between real clients over an in-process relay: replies, reactions, edits,
 * delete for everyone, disappearing timers, typing, block (with delivery-token rotation),
 * reports and message requests. Clocks are injected (a skew added to Date.now) so timers are
 * tested without waiting.
 *
 * Multi-device: these tests run with one device per party (the parties' own devices see the
 * same content through the pairwise sessions; sent-message sync of life content to our other
 * devices belongs to devices/).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  DELETE_WINDOW_MS,
  MAX_QUOTE_CHARS,
  MAX_REACTION_BYTES,
  INVITE_TTL_MS,
  TYPING_MIN_INTERVAL_MS,
  decodeInviteLink,
  encodeInviteLink,
} from '../src/index.node.js';
import type { MessageRequest, MessageUpdate, PigeonClient, StoredMessage, TypingEvent } from '../src/index.node.js';
import { nextEvent, openClient, startRelay, tempDir } from './helpers.js';
import type { TestRelay } from './helpers.js';

const live: PigeonClient[] = [];
const root = tempDir('life');
after(() => root.remove());
let n = 0;

interface Party {
  client: PigeonClient;
  clock: { skew: number };
  home: string;
}

async function party(relayUrl: string, name: string): Promise<Party> {
  const clock = { skew: 0 };
  const home = join(root.path, `${name}-${n++}`);
  const client = await openClient(home, { now: () => Date.now() + clock.skew });
  await client.init({ relayUrl, displayName: name });
  await client.connect();
  live.push(client);
  return { client, clock, home };
}

async function reopen(p: Party): Promise<PigeonClient> {
  await p.client.close();
  p.client = await openClient(p.home, { now: () => Date.now() + p.clock.skew });
  live.push(p.client);
  return p.client;
}

/** `b` accepts `a`'s invite; resolves with each one's id for the other. */
async function link(a: PigeonClient, b: PigeonClient): Promise<{ bAtA: string; aAtB: string }> {
  const { link: l } = await a.createInvite();
  const added = nextEvent<{ id: string }>((fn) => a.on('contact', fn));
  const aAtB = await b.acceptInvite(l);
  await b.flush();
  const bAtA = (await added).id;
  // `a`'s account token for `b` (who came in through the invite's own token) is on its way.
  await a.flush();
  return { bAtA, aAtB: aAtB.id };
}

/** What `from` sent before this has been processed by `to` (one mailbox, in order). */
async function barrier(from: PigeonClient, to: PigeonClient, toId: string): Promise<void> {
  const text = `barrier ${n++}`;
  const got = nextEvent<StoredMessage>((fn) => to.on('message', fn), (m) => m.text === text);
  await from.send(toId, text);
  await got;
}

function update(c: PigeonClient, match: (u: MessageUpdate) => boolean): Promise<MessageUpdate> {
  return nextEvent<MessageUpdate>((fn) => c.on('update', fn), match);
}

describe('message life', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
  });
  after(async () => {
    await relay.stop();
  });
  afterEach(async () => {
    for (const c of live.splice(0)) await c.close();
  });

  it('replies carry the quoted id and a short quote', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { bAtA: bobId, aAtB: aliceId } = await link(alice.client, bob.client);
    const long = 'x'.repeat(MAX_QUOTE_CHARS + 50);
    const got = nextEvent<StoredMessage>((fn) => bob.client.on('message', fn));
    const original = await alice.client.send(bobId, long);
    await got;
    const replied = nextEvent<StoredMessage>((fn) => alice.client.on('message', fn));
    const sent = await bob.client.reply(original.id, 'answer');
    assert.equal(sent.replyTo, original.id);
    assert.equal(sent.quote, 'x'.repeat(MAX_QUOTE_CHARS), 'quote cut to MAX_QUOTE_CHARS');
    const atAlice = await replied;
    assert.equal(atAlice.text, 'answer');
    assert.equal(atAlice.replyTo, original.id);
    assert.equal(atAlice.quote, 'x'.repeat(MAX_QUOTE_CHARS));
    assert.equal(alice.client.messages(bobId).at(-1)?.replyTo, original.id);
    // Delivery receipts work for replies as for texts.
    await nextEvent<StoredMessage>((fn) => bob.client.on('status', fn), (m) => m.id === sent.id && m.state === 'delivered');
    await assert.rejects(bob.client.reply('00'.repeat(16), 'x'), { code: 'UNKNOWN_MESSAGE' });
    await assert.rejects(bob.client.reply(original.id, ''), { code: 'BAD_ARGUMENT' });
    assert.ok(aliceId);
  });

  it('reactions are set, replaced and removed on both sides', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { bAtA: bobId, aAtB: aliceId } = await link(alice.client, bob.client);
    const got = nextEvent<StoredMessage>((fn) => bob.client.on('message', fn));
    const m = await alice.client.send(bobId, 'react to me');
    await got;
    let seen = update(alice.client, (u) => u.kind === 'reaction' && u.messageId === m.id);
    const mine = await bob.client.react(m.id, '👍');
    assert.deepEqual(mine.reactions, [{ senderId: bob.client.profile().accountId, emoji: '👍' }]);
    assert.equal((await seen).by, aliceId === '' ? '' : bobId);
    assert.deepEqual(alice.client.messages(bobId).find((x) => x.id === m.id)?.reactions, [{ senderId: bobId, emoji: '👍' }]);
    seen = update(alice.client, (u) => u.kind === 'reaction' && u.messageId === m.id);
    await bob.client.react(m.id, '❤️');
    await seen;
    assert.deepEqual(alice.client.messages(bobId).find((x) => x.id === m.id)?.reactions, [{ senderId: bobId, emoji: '❤️' }], 'replaced, not added');
    // Alice reacts to her own message too: two reactions.
    await alice.client.react(m.id, '😂');
    assert.equal(alice.client.messages(bobId).find((x) => x.id === m.id)?.reactions?.length, 2);
    seen = update(alice.client, (u) => u.kind === 'reaction' && u.messageId === m.id);
    await bob.client.react(m.id, null);
    await seen;
    assert.deepEqual(alice.client.messages(bobId).find((x) => x.id === m.id)?.reactions, [{ senderId: alice.client.profile().accountId, emoji: '😂' }]);
    await assert.rejects(bob.client.react(m.id, ''), { code: 'BAD_ARGUMENT' });
    await assert.rejects(bob.client.react(m.id, '👍'.repeat(MAX_REACTION_BYTES)), { code: 'BAD_ARGUMENT' });
    await assert.rejects(bob.client.react(m.id, 'a b'), { code: 'BAD_ARGUMENT' });
  });

  it('edits change the text everywhere; only the author may edit', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { bAtA: bobId, aAtB: aliceId } = await link(alice.client, bob.client);
    const got = nextEvent<StoredMessage>((fn) => bob.client.on('message', fn));
    const m = await alice.client.send(bobId, 'teh typo');
    await got;
    const seen = update(bob.client, (u) => u.kind === 'edited' && u.messageId === m.id);
    const edited = await alice.client.edit(m.id, 'the typo');
    assert.equal(edited.text, 'the typo');
    assert.equal(edited.edited, true);
    assert.equal((await seen).by, aliceId);
    const atBob = bob.client.messages(aliceId).find((x) => x.id === m.id)!;
    assert.equal(atBob.text, 'the typo');
    assert.equal(atBob.edited, true);
    await assert.rejects(bob.client.edit(m.id, 'not yours'), { code: 'BAD_ARGUMENT' });
    await assert.rejects(alice.client.edit(m.id, ''), { code: 'BAD_ARGUMENT' });
  });

  it('delete for everyone leaves a tombstone on both sides, within the window, author only', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { bAtA: bobId, aAtB: aliceId } = await link(alice.client, bob.client);
    const got = nextEvent<StoredMessage>((fn) => bob.client.on('message', fn));
    const m = await alice.client.send(bobId, 'oops');
    await got;
    await bob.client.react(m.id, '👍');
    await assert.rejects(bob.client.deleteForEveryone(m.id), { code: 'BAD_ARGUMENT' });
    const seen = update(bob.client, (u) => u.kind === 'deleted' && u.messageId === m.id);
    const gone = await alice.client.deleteForEveryone(m.id);
    assert.equal(gone.deleted, true);
    assert.equal(gone.text, '');
    await seen;
    const atBob = bob.client.messages(aliceId).find((x) => x.id === m.id)!;
    assert.equal(atBob.deleted, true);
    assert.equal(atBob.text, '');
    assert.equal(atBob.reactions, undefined, 'reactions go with the text');
    await assert.rejects(alice.client.edit(m.id, 'again'), { code: 'UNKNOWN_MESSAGE' });
    // The window: a message older than DELETE_WINDOW_MS stays.
    const old = await alice.client.send(bobId, 'old news');
    alice.clock.skew = DELETE_WINDOW_MS + 60_000;
    await assert.rejects(alice.client.deleteForEveryone(old.id), { code: 'BAD_ARGUMENT' });
  });

  it('a disappearing timer set by one side applies to both; messages expire on every device', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { bAtA: bobId, aAtB: aliceId } = await link(alice.client, bob.client);
    const timerAtBob = update(bob.client, (u) => u.kind === 'timer');
    await alice.client.setDisappearingTimer(bobId, 60_000);
    assert.equal((await timerAtBob).timerMs, 60_000);
    assert.equal(bob.client.disappearingTimer(aliceId), 60_000);
    assert.equal(alice.client.disappearingTimer(bobId), 60_000);
    await assert.rejects(alice.client.setDisappearingTimer(bobId, 10), { code: 'BAD_ARGUMENT' });

    const got = nextEvent<StoredMessage>((fn) => bob.client.on('message', fn));
    const m = await alice.client.send(bobId, 'self-destructing');
    assert.equal(m.timerMs, 60_000);
    assert.equal(m.expiresAt, m.sentAt + 60_000, 'outgoing: from the moment it is sent');
    const atBob = await got;
    assert.equal(atBob.timerMs, 60_000);
    assert.equal(atBob.expiresAt, null, 'incoming: not before it is read');
    // Bob's reply carries the timer too (both sides store it).
    const back = nextEvent<StoredMessage>((fn) => alice.client.on('message', fn));
    await bob.client.send(aliceId, 'me too');
    assert.equal((await back).timerMs, 60_000);

    bob.clock.skew = 10_000;
    await bob.client.markRead([atBob.id]);
    const readAt = bob.client.messages(aliceId).find((x) => x.id === atBob.id)!.expiresAt!;
    assert.ok(readAt >= Date.now() + 10_000 + 60_000 - 5_000);

    // Sweeps (what the timer runs): Alice's copy expires 60 s after sending, Bob's 60 s after reading.
    alice.clock.skew = 61_000;
    const expiredAtAlice = update(alice.client, (u) => u.kind === 'expired' && u.messageId === m.id);
    assert.ok(alice.client.life.sweep() >= 1);
    await expiredAtAlice;
    assert.equal(alice.client.messages(bobId).some((x) => x.id === m.id), false);
    bob.clock.skew = 61_000;
    bob.client.life.sweep();
    assert.equal(bob.client.messages(aliceId).some((x) => x.id === m.id), true, 'read at +10 s: still there at +61 s');
    bob.clock.skew = 71_000;
    bob.client.life.sweep();
    assert.equal(bob.client.messages(aliceId).some((x) => x.id === m.id), false);

    // Off again: new messages carry no timer.
    const offAtAlice = update(alice.client, (u) => u.kind === 'timer');
    await bob.client.setDisappearingTimer(aliceId, 0);
    assert.equal((await offAtAlice).timerMs, 0);
    const plain = await alice.client.send(bobId, 'stays');
    assert.equal(plain.timerMs, undefined);
  });

  it('expired messages are swept on restart too', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { bAtA: bobId } = await link(alice.client, bob.client);
    await alice.client.setDisappearingTimer(bobId, 5_000);
    const m = await alice.client.send(bobId, 'brief');
    await alice.client.flush();
    alice.clock.skew = 6_000;
    // load() sweeps what expired while the client was closed.
    const again = await reopen(alice);
    assert.equal(again.messages(bobId).some((x) => x.id === m.id), false);
  });

  it('typing indicators arrive, are rate-limited, and stop', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const { aAtB: aliceId, bAtA: bobId } = await link(alice.client, bob.client);
    const on = nextEvent<TypingEvent>((fn) => alice.client.on('typing', fn), (t) => t.typing);
    assert.equal(await bob.client.sendTyping(aliceId, true), true);
    assert.equal((await on).contactId, bobId);
    assert.equal(await bob.client.sendTyping(aliceId, true), false, `at most one start per ${TYPING_MIN_INTERVAL_MS} ms`);
    const off = nextEvent<TypingEvent>((fn) => alice.client.on('typing', fn), (t) => !t.typing);
    assert.equal(await bob.client.sendTyping(aliceId, false), true);
    await off;
    assert.equal(await bob.client.sendTyping(aliceId, false), false, 'no stop without a start');
    bob.clock.skew = TYPING_MIN_INTERVAL_MS + 1;
    // Typing is not stored as a message.
    assert.equal(alice.client.messages(bobId).length, 0);
  });

  it('block drops a contact\'s mail, rotates our token away from it, and other contacts keep working', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const carol = await party(relay.url, 'carol');
    const ab = await link(alice.client, bob.client);
    const ac = await link(alice.client, carol.client);
    const result = await alice.client.block(ab.bAtA);
    assert.deepEqual(result, { tokenRotated: true, tokenSharedWith: 1 });
    assert.deepEqual(alice.client.blockedContacts().map((b) => b.contactId), [ab.bAtA]);
    // Carol learns the new token (in order, before this barrier) and can still write.
    await barrier(alice.client, carol.client, ac.bAtA);
    await barrier(carol.client, alice.client, ac.aAtB);
    // Bob's sends are refused by the relay: his message fails, Alice stores nothing.
    const failed = nextEvent<StoredMessage>((fn) => bob.client.on('status', fn), (m) => m.state === 'failed');
    const lost = await bob.client.send(ab.aAtB, 'let me in');
    assert.equal((await failed).id, lost.id);
    assert.equal(alice.client.messages(ab.bAtA).some((m) => m.text === 'let me in'), false);
    // New invite links carry the new token.
    const fresh = decodeInviteLink((await alice.client.createInvite()).link);
    assert.equal(fresh.deliveryToken.length, 32);

    // Unblock: Bob gets the current token and is heard again.
    await alice.client.unblock(ab.bAtA);
    await barrier(alice.client, bob.client, ab.bAtA);
    await barrier(bob.client, alice.client, ab.aAtB);
    assert.deepEqual(alice.client.blockedContacts(), []);
  });

  it('mail from a blocked contact is dropped on receipt even before the token rotation', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const ab = await link(alice.client, bob.client);
    // Bob's message is already in the relay when Alice blocks, offline (the rotation waits for the relay).
    await alice.client.close();
    await bob.client.send(ab.aAtB, 'queued before the block');
    await bob.client.flush();
    const again = await reopen(alice);
    assert.deepEqual(await again.block(ab.bAtA), { tokenRotated: false, tokenSharedWith: 0 });
    await again.connect();
    await again.sync();
    assert.equal(again.messages(ab.bAtA).some((m) => m.text === 'queued before the block'), false);
    assert.equal(again.outboxSize(), 0, 'no receipt for the dropped message');
  });

  it('report records a local report and blocks', async () => {
    const alice = await party(relay.url, 'alice');
    const bob = await party(relay.url, 'bob');
    const ab = await link(alice.client, bob.client);
    await alice.client.report(ab.bAtA, 'spam');
    assert.deepEqual(alice.client.blockedContacts().map((b) => [b.contactId, b.reported]), [[ab.bAtA, true]]);
  });

  it('holds an introduction without a valid invite secret, and its texts, as a request until accepted', async () => {
    const alice = await party(relay.url, 'alice');
    const dave = await party(relay.url, 'dave');
    const invite = decodeInviteLink((await alice.client.createInvite()).link);
    const forged = encodeInviteLink({ ...invite, inviteSecret: new Uint8Array(invite.inviteSecret.length).fill(7) });
    const requested = nextEvent<MessageRequest>((fn) => alice.client.on('request', fn), (r) => r.introduced);
    const aliceAtDave = await dave.client.acceptInvite(forged);
    await dave.client.flush();
    const req = await requested;
    assert.equal(req.name, 'dave');
    assert.equal(alice.client.contacts().length, 0, 'not a contact');
    const withText = nextEvent<MessageRequest>((fn) => alice.client.on('request', fn), (r) => r.messages === 1);
    const hello = await dave.client.send(aliceAtDave.id, 'hello stranger');
    await withText;
    assert.equal(alice.client.unread().length, 0, 'held apart from the normal list');
    assert.equal(alice.client.outboxSize(), 0, 'no receipts for a request');
    assert.deepEqual(alice.client.life.requestMessages(req.id).map((m) => m.text), ['hello stranger']);

    const contact = await alice.client.acceptRequest(req.id);
    assert.equal(contact.name, 'dave');
    assert.deepEqual(alice.client.requests(), []);
    assert.deepEqual(alice.client.messages(contact.id).map((m) => m.id), [hello.id], 'messages moved to the chat');
    const answered = nextEvent<StoredMessage>((fn) => dave.client.on('message', fn));
    await alice.client.send(contact.id, 'welcome');
    assert.equal((await answered).text, 'welcome');
  });

  it('rejecting a request drops it and can block the sender', async () => {
    const alice = await party(relay.url, 'alice');
    const eve = await party(relay.url, 'eve');
    const invite = decodeInviteLink((await alice.client.createInvite()).link);
    const forged = encodeInviteLink({ ...invite, inviteSecret: new Uint8Array(invite.inviteSecret.length).fill(9) });
    const withText = nextEvent<MessageRequest>((fn) => alice.client.on('request', fn), (r) => r.messages === 1);
    const aliceAtEve = await eve.client.acceptInvite(forged);
    await eve.client.send(aliceAtEve.id, 'buy now');
    const req = await withText;
    await alice.client.rejectRequest(req.id, { block: true });
    assert.deepEqual(alice.client.requests(), []);
    assert.deepEqual(alice.client.blockedContacts().map((b) => b.contactId), [req.id]);
    assert.equal(alice.client.messages(req.id).length, 0);
    await assert.rejects(alice.client.acceptRequest(req.id), { code: 'BAD_ARGUMENT' });
  });

  describe('invite links and blocking', () => {
    const tokenOf = (l: string) => Buffer.from(decodeInviteLink(l).deliveryToken).toString('hex');
    /** Resolves when the relay takes the link's token (the bundle fetch needs it), rejects RELAY_REJECTED otherwise. */
    const refusedToken = (e: unknown) => (e as { code?: string }).code === 'RELAY_REJECTED' && /BAD_DELIVERY_TOKEN/.test((e as Error).message);
    const probe = async (l: string) => {
      const stranger = await party(relay.url, 'prober');
      return stranger.client.acceptInvite(l);
    };

    it('each link has its own token, and a link made before a block still works after it', async () => {
      const alice = await party(relay.url, 'alice');
      const bob = await party(relay.url, 'bob');
      const dave = await party(relay.url, 'dave');
      const early = (await alice.client.createInvite()).link;
      const other = (await alice.client.createInvite()).link;
      assert.notEqual(tokenOf(early), tokenOf(other));
      const ab = await link(alice.client, bob.client);
      assert.deepEqual(await alice.client.block(ab.bAtA), { tokenRotated: true, tokenSharedWith: 0 });
      const added = nextEvent<{ id: string }>((fn) => alice.client.on('contact', fn));
      const aliceAtDave = await dave.client.acceptInvite(early);
      await dave.client.flush();
      const daveAtAlice = (await added).id;
      await barrier(dave.client, alice.client, aliceAtDave.id);
      await barrier(alice.client, dave.client, daveAtAlice);
    });

    it('the contact an invite brought in is given our account token: it keeps working after the invite token retires', async () => {
      const alice = await party(relay.url, 'alice');
      const dave = await party(relay.url, 'dave');
      const l = (await alice.client.createInvite()).link;
      const added = nextEvent<{ id: string }>((fn) => alice.client.on('contact', fn));
      const aliceAtDave = await dave.client.acceptInvite(l);
      await dave.client.flush();
      const daveAtAlice = (await added).id;
      // Alice's token message reaches Dave before this barrier's text.
      await barrier(alice.client, dave.client, daveAtAlice);
      // Past the grace period the invite token leaves the relay on the next connection.
      alice.clock.skew += INVITE_TTL_MS + 60_000;
      await reopen(alice);
      await alice.client.connect();
      await alice.client.life.syncInviteTokens(); // joins the run the connection started
      await assert.rejects(probe(l), refusedToken);
      await barrier(dave.client, alice.client, aliceAtDave.id);
    });

    it('blocking the contact an invite brought in retires that invite token at once', async () => {
      const alice = await party(relay.url, 'alice');
      const dave = await party(relay.url, 'dave');
      const l = (await alice.client.createInvite()).link;
      const unused = (await alice.client.createInvite()).link;
      const added = nextEvent<{ id: string }>((fn) => alice.client.on('contact', fn));
      const aliceAtDave = await dave.client.acceptInvite(l);
      await dave.client.flush();
      await alice.client.block((await added).id);
      await assert.rejects(probe(l), refusedToken);
      // Dave's sends are refused whichever token he holds.
      const failed = nextEvent<StoredMessage>((fn) => dave.client.on('status', fn), (m) => m.state === 'failed');
      await dave.client.send(aliceAtDave.id, 'still there?');
      await failed;
      // A link nobody used is not touched by the block.
      await probe(unused);
    });

    it('offline, a link carries the account token; an unused invite token leaves the relay when the invite expires', async () => {
      const alice = await party(relay.url, 'alice');
      const online = (await alice.client.createInvite()).link;
      await probe(online);
      const again = await reopen(alice); // not connected
      const a = (await again.createInvite()).link;
      const b = (await again.createInvite()).link;
      assert.equal(tokenOf(a), tokenOf(b));
      assert.notEqual(tokenOf(a), tokenOf(online));
      await probe(a);
      alice.clock.skew += INVITE_TTL_MS + 60_000;
      await again.connect();
      await again.life.syncInviteTokens();
      await assert.rejects(probe(online), refusedToken);
      // The account token stays.
      await probe(a);
    });
  });
});
