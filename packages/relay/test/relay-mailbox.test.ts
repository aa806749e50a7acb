import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLOSE_CODES, QUIET_ACK_ID, type DeliverFrame } from '@pigeon/api';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { TestClient } from './helpers/client.js';
import {
  assertError,
  assertOk,
  authenticated,
  hex,
  randomId,
  randomToken,
  registered,
  sendTo,
  setTokens,
  startTestRelay,
  type Session,
  type TestRelay,
} from './helpers/harness.js';

const text = (s: string) => new TextEncoder().encode(s);
const envelopeText = (d: DeliverFrame) => new TextDecoder().decode(d.envelope);

/** A registered recipient that accepts `token`, disconnected unless `stayOnline`. */
async function recipient(url: string, token: Uint8Array, stayOnline = false): Promise<Session> {
  const s = await registered(url);
  await setTokens(s.client, [token]);
  await s.client.next((f) => f.type === 'queue_empty');
  if (!stayOnline) await s.client.close();
  return s;
}

describe('relay: mailboxes', () => {
  let relay: TestRelay;
  let now = 1_700_000_000_000;
  before(async () => {
    relay = await startTestRelay({ clock: { now: () => now }, messageTtlMs: 60_000 });
  });
  after(() => relay.relay.stop());

  it('send -> deliver -> ack, pushed to an online recipient; the sender stays anonymous', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token, true);
    const sender = await TestClient.connect(relay.url); // never authenticates
    const messageId = randomId();
    assertOk(await sendTo(sender, bob.device, token, text('hello'), messageId));
    const d = await bob.client.nextDeliver();
    assert.equal(hex(d.messageId), hex(messageId));
    assert.equal(envelopeText(d), 'hello');
    assert.equal(d.receivedAt, now);
    assertOk(await bob.client.request({ type: 'ack', id: bob.client.id(), messageIds: [messageId] }));
    assert.deepStrictEqual(await relay.relay.store.mailboxUsage(bob.device.deviceId), { messages: 0, bytes: 0 });
    await sender.close();
    await bob.client.close();
  });

  it('a quiet ack (QUIET_ACK_ID) gets no reply, frees the window and empties the mailbox', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token, true);
    const sender = await TestClient.connect(relay.url);
    const ids = [randomId(), randomId()];
    for (const [i, id] of ids.entries()) assertOk(await sendTo(sender, bob.device, token, text(`q${i}`), id));
    for (let i = 0; i < 2; i++) await bob.client.nextDeliver();
    bob.client.sendFrame({ type: 'ack', id: QUIET_ACK_ID, messageIds: ids });
    // A ping sent after the ack is answered after it was read; nothing may answer the ack itself.
    assert.equal((await bob.client.request({ type: 'ping', id: bob.client.id() })).type, 'pong');
    for (let i = 0; i < 50 && (await relay.relay.store.mailboxUsage(bob.device.deviceId)).messages > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepStrictEqual(await relay.relay.store.mailboxUsage(bob.device.deviceId), { messages: 0, bytes: 0 });
    assert.equal(bob.client.pendingFrames().filter((f) => 'id' in f && f.id === QUIET_ACK_ID).length, 0, 'a reply to a quiet ack');
    // The connection goes on delivering (the acked ids left the window).
    const later = randomId();
    assertOk(await sendTo(sender, bob.device, token, text('later'), later));
    assert.equal(hex((await bob.client.nextDeliver()).messageId), hex(later));
    await sender.close();
    await bob.client.close();
  });

  it('a quiet ack the store cannot apply closes the connection with 1011; the message comes again', async () => {
    const store = openSqliteStore();
    let failAcks = true;
    const realAck = store.ack.bind(store);
    store.ack = (deviceId, messageIds) => (failAcks ? Promise.reject(new Error('disk gone')) : realAck(deviceId, messageIds));
    const failing = await startTestRelay({ store });
    try {
      const token = randomToken();
      const bob = await recipient(failing.url, token, true);
      const sender = await TestClient.connect(failing.url);
      const id = randomId();
      assertOk(await sendTo(sender, bob.device, token, text('again'), id));
      await bob.client.nextDeliver();
      bob.client.sendFrame({ type: 'ack', id: QUIET_ACK_ID, messageIds: [id] });
      assert.equal((await bob.client.closed).code, CLOSE_CODES.INTERNAL);
      failAcks = false;
      const again = await authenticated(failing.url, bob.device);
      assert.equal(hex((await again.nextDeliver()).messageId), hex(id));
      await again.close();
      await sender.close();
    } finally {
      await failing.relay.stop();
      await store.close();
    }
  });

  it('delivers the backlog in order on connect, then queue_empty', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token);
    const sender = await TestClient.connect(relay.url);
    for (let i = 0; i < 5; i++) assertOk(await sendTo(sender, bob.device, token, text(`m${i}`)));
    const client = await authenticated(relay.url, bob.device);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(envelopeText(await client.nextDeliver()));
    assert.deepStrictEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.equal((await client.next((f) => f.type === 'queue_empty' || f.type === 'deliver')).type, 'queue_empty');
    await sender.close();
    await client.close();
  });

  it('re-sends unacknowledged messages after a reconnect until they are acked', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token);
    const sender = await TestClient.connect(relay.url);
    const ids = [randomId(), randomId(), randomId()];
    for (const [i, id] of ids.entries()) assertOk(await sendTo(sender, bob.device, token, text(`r${i}`), id));

    const first = await authenticated(relay.url, bob.device);
    for (let i = 0; i < 3; i++) await first.nextDeliver();
    assertOk(await first.request({ type: 'ack', id: first.id(), messageIds: [ids[0]!] }));
    await first.close();

    const second = await authenticated(relay.url, bob.device);
    const again = [await second.nextDeliver(), await second.nextDeliver()];
    assert.deepStrictEqual(again.map((d) => hex(d.messageId)), [hex(ids[1]!), hex(ids[2]!)]);
    await second.next((f) => f.type === 'queue_empty');
    assertOk(await second.request({ type: 'ack', id: second.id(), messageIds: [ids[1]!, ids[2]!] }));
    await second.close();

    const third = await authenticated(relay.url, bob.device);
    assert.equal((await third.next((f) => f.type === 'queue_empty' || f.type === 'deliver')).type, 'queue_empty');
    await third.close();
    await sender.close();
  });

  it('a resend of the same message id is acknowledged without storing a second copy', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token);
    const sender = await TestClient.connect(relay.url);
    const id = randomId();
    assertOk(await sendTo(sender, bob.device, token, text('once'), id));
    assertOk(await sendTo(sender, bob.device, token, text('once'), id));
    assert.equal((await relay.relay.store.mailboxUsage(bob.device.deviceId)).messages, 1);
    await sender.close();
  });

  it('keeps at most deliveryWindow deliveries in flight; acks release the rest', async () => {
    const small = await startTestRelay({ limits: { deliveryWindow: 2 } });
    try {
      const token = randomToken();
      const bob = await recipient(small.url, token);
      const sender = await TestClient.connect(small.url);
      for (let i = 0; i < 5; i++) assertOk(await sendTo(sender, bob.device, token, text(`w${i}`)));
      const client = await authenticated(small.url, bob.device);
      const a = await client.nextDeliver();
      const b = await client.nextDeliver();
      // The window is full: a ping round trip proves nothing else was pushed before it.
      assert.equal((await client.request({ type: 'ping', id: client.id() })).type, 'pong');
      assert.equal(client.pendingFrames().filter((f) => f.type === 'deliver').length, 0);
      assertOk(await client.request({ type: 'ack', id: client.id(), messageIds: [a.messageId, b.messageId] }));
      const rest = [await client.nextDeliver(), await client.nextDeliver()];
      assert.deepStrictEqual(rest.map(envelopeText), ['w2', 'w3']);
      assertOk(await client.request({ type: 'ack', id: client.id(), messageIds: rest.map((d) => d.messageId) }));
      assert.equal(envelopeText(await client.nextDeliver()), 'w4');
      await client.next((f) => f.type === 'queue_empty');
      await client.close();
      await sender.close();
    } finally {
      await small.relay.stop();
    }
  });

  it('expires undelivered messages after messageTtlMs (injected clock)', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token);
    const sender = await TestClient.connect(relay.url);
    assertOk(await sendTo(sender, bob.device, token, text('old')));
    now += 30_000;
    assertOk(await sendTo(sender, bob.device, token, text('new')));
    now += 40_000; // the first is 70 s old, past the 60 s TTL; the second 40 s
    const client = await authenticated(relay.url, bob.device);
    assert.equal(envelopeText(await client.nextDeliver()), 'new');
    await client.next((f) => f.type === 'queue_empty');
    assert.ok((await relay.relay.sweepExpired()) >= 1);
    assert.equal((await relay.relay.store.mailboxUsage(bob.device.deviceId)).messages, 1);
    await client.close();
    await sender.close();
  });

  it('refuses sends without a valid delivery token, to unknown devices, and to full mailboxes', async () => {
    const small = await startTestRelay({ limits: { mailboxMaxMessages: 2 } });
    try {
      const token = randomToken();
      const bob = await recipient(small.url, token);
      const sender = await TestClient.connect(small.url);
      assertError(await sendTo(sender, bob.device, randomToken(), text('x')), 'BAD_DELIVERY_TOKEN');
      assertError(await sendTo(sender, bob.device, new Uint8Array(0), text('x')), 'BAD_DELIVERY_TOKEN');
      const stranger = { ...bob.device, deviceId: randomId() };
      assertError(await sendTo(sender, stranger, token, text('x')), 'UNKNOWN_RECIPIENT');
      assertOk(await sendTo(sender, bob.device, token, text('1')));
      assertOk(await sendTo(sender, bob.device, token, text('2')));
      assertError(await sendTo(sender, bob.device, token, text('3')), 'MAILBOX_FULL');
      // A token of another account does not open this mailbox; a removed token stops working.
      const other = await recipient(small.url, randomToken(), true);
      const otherToken = randomToken();
      await setTokens(other.client, [otherToken]);
      assertError(await sendTo(sender, bob.device, otherToken, text('x')), 'BAD_DELIVERY_TOKEN');
      await setTokens(other.client, [], [otherToken]);
      assertError(await sendTo(sender, other.device, otherToken, text('x')), 'BAD_DELIVERY_TOKEN');
      await other.client.close();
      await sender.close();
    } finally {
      await small.relay.stop();
    }
  });

  it('bounds delivery tokens per account (LIMIT_EXCEEDED)', async () => {
    const small = await startTestRelay({ limits: { maxDeliveryTokensPerAccount: 2 } });
    try {
      const { client } = await registered(small.url);
      await setTokens(client, [randomToken(), randomToken()]);
      assertError(await client.request({ type: 'set_delivery_tokens', id: client.id(), add: [randomToken()], remove: [] }), 'LIMIT_EXCEEDED');
      await client.close();
    } finally {
      await small.relay.stop();
    }
  });

  it('many pipelined sends are all acknowledged and delivered exactly once each', async () => {
    const token = randomToken();
    const bob = await recipient(relay.url, token, true);
    const sender = await TestClient.connect(relay.url);
    const count = 200;
    const replies = await Promise.all(Array.from({ length: count }, (_, i) => sendTo(sender, bob.device, token, text(`p${i}`))));
    for (const r of replies) assertOk(r);
    const seen = new Set<string>();
    while (seen.size < count) {
      const d = await bob.client.nextDeliver();
      assert.ok(!seen.has(hex(d.messageId)));
      seen.add(hex(d.messageId));
      assertOk(await bob.client.request({ type: 'ack', id: bob.client.id(), messageIds: [d.messageId] }));
    }
    await bob.client.close();
    await sender.close();
  });
});
