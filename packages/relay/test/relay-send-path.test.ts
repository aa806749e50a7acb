/**
 * The send -> deliver hot path: messages pushed from memory to a caught-up connection (never twice
 * on one connection, never out of order, re-sent after a reconnect), the send-auth cache
 * (send-auth-cache.ts) and send admission (admission.ts).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { DeliverFrame } from '@pigeon/api';
import { SendAdmission } from '../src/admission.js';
import { resolveLimits, DEFAULT_LIMITS } from '../src/options.js';
import { SEND_AUTH_CACHE_MAX_ENTRIES, SEND_AUTH_CACHE_TTL_MS, SendAuthCache } from '../src/send-auth-cache.js';
import { TestClient } from './helpers/client.js';
import { assertError, assertOk, authenticated, hex, randomId, randomToken, registered, sendTo, setTokens, startTestRelay, type TestRelay } from './helpers/harness.js';

const text = (s: string) => new TextEncoder().encode(s);
const envelopeText = (d: DeliverFrame) => new TextDecoder().decode(d.envelope);

describe('relay: send path', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ limits: { deliveryWindow: 12 } });
  });
  after(() => relay.relay.stop());

  it('pipelined sends to an online device arrive once each, in order, across direct pushes and window refills', async () => {
    const token = randomToken();
    const bob = await registered(relay.url);
    await setTokens(bob.client, [token]);
    await bob.client.next((f) => f.type === 'queue_empty');
    const sender = await TestClient.connect(relay.url);
    const count = 40;
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) replies.push(sendTo(sender, bob.device, token, text(`p${i}`)).then(assertOk));
    const got: string[] = [];
    const seen = new Set<string>();
    while (got.length < count) {
      const d = await bob.client.nextDeliver();
      const id = hex(d.messageId);
      assert.ok(!seen.has(id), 'delivered twice on one connection');
      seen.add(id);
      got.push(envelopeText(d));
      // The first half: only every other one is acked (10 stay in flight), so the window of 12 fills
      // and store reads refill it between direct pushes.
      if (got.length % 2 === 0 || got.length > count / 2) {
        assertOk(await bob.client.request({ type: 'ack', id: bob.client.id(), messageIds: [d.messageId] }));
      }
    }
    await Promise.all(replies);
    assert.deepStrictEqual(got, Array.from({ length: count }, (_, i) => `p${i}`));
    // Nothing more arrives on this connection (a ping round trip orders it).
    assert.equal((await bob.client.request({ type: 'ping', id: bob.client.id() })).type, 'pong');
    assert.equal(bob.client.pendingFrames().filter((f) => f.type === 'deliver').length, 0);
    await bob.client.close();

    // The ones never acked are delivered again on the next connection, in order.
    const unacked = got.filter((_, i) => i + 1 <= count / 2 && (i + 1) % 2 === 1);
    const again = await authenticated(relay.url, bob.device);
    const redelivered: string[] = [];
    for (let i = 0; i < unacked.length; i++) {
      const d = await again.nextDeliver();
      redelivered.push(envelopeText(d));
      assertOk(await again.request({ type: 'ack', id: again.id(), messageIds: [d.messageId] }));
    }
    assert.deepStrictEqual(redelivered, unacked);
    await again.close();
    await sender.close();
  });

  it('a delivery token removed on this node is refused at once, though a send just used it', async () => {
    const token = randomToken();
    const bob = await registered(relay.url);
    await setTokens(bob.client, [token]);
    const sender = await TestClient.connect(relay.url);
    assertOk(await sendTo(sender, bob.device, token, text('before')));
    await setTokens(bob.client, [], [token]);
    assertError(await sendTo(sender, bob.device, token, text('after')), 'BAD_DELIVERY_TOKEN');
    const other = randomToken();
    await setTokens(bob.client, [other]);
    assertOk(await sendTo(sender, bob.device, other, text('new token works at once')));
    await sender.close();
    await bob.client.close();
  });
});

describe('SendAuthCache', () => {
  it('remembers positive answers for SEND_AUTH_CACHE_TTL_MS, forgets an account, ignores answers read before a change', () => {
    let now = 0;
    const cache = new SendAuthCache(() => now);
    const account = new Uint8Array([1, 2]);
    const hash = new Uint8Array([9]);
    const epoch = cache.epoch;
    const entry = cache.rememberRecipient('aa', account, epoch);
    cache.rememberToken(entry.accountHex, hash, epoch);
    assert.equal(cache.recipient('aa')?.accountHex, '0102');
    assert.ok(cache.hasToken('0102', hash));
    now += SEND_AUTH_CACHE_TTL_MS;
    assert.equal(cache.recipient('aa'), undefined);
    assert.ok(!cache.hasToken('0102', hash));

    const e2 = cache.epoch;
    cache.rememberRecipient('aa', account, e2);
    cache.rememberToken('0102', hash, e2);
    cache.forgetAccount(account);
    assert.equal(cache.recipient('aa'), undefined);
    assert.ok(!cache.hasToken('0102', hash));
    // A lookup that started before forgetAccount is not cached.
    cache.rememberToken('0102', hash, e2);
    cache.rememberRecipient('aa', account, e2);
    assert.ok(!cache.hasToken('0102', hash));
    assert.equal(cache.recipient('aa'), undefined);
  });

  it('holds at most SEND_AUTH_CACHE_MAX_ENTRIES per map', () => {
    const cache = new SendAuthCache(() => 0, 1000, 3);
    const hash = (i: number) => new Uint8Array([i]);
    for (let i = 0; i < 4; i++) cache.rememberToken('01', hash(i), cache.epoch);
    assert.ok(cache.hasToken('01', hash(3)));
    assert.ok(!cache.hasToken('01', hash(0)));
    assert.ok(SEND_AUTH_CACHE_MAX_ENTRIES > 0);
  });
});

class FakeSocket extends EventEmitter {
  destroyed = false;
  paused = false;
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
}

describe('SendAdmission', () => {
  it('pauses a sending socket past maxPendingSends and resumes every paused socket at half', () => {
    const admission = new SendAdmission(4);
    const a = new FakeSocket();
    const b = new FakeSocket();
    const socket = (s: FakeSocket) => s as unknown as Duplex;
    for (let i = 0; i < 4; i++) admission.begin(socket(a));
    assert.ok(!a.paused);
    admission.begin(socket(a));
    admission.begin(socket(b));
    assert.ok(a.paused && b.paused);
    assert.equal(admission.pausedSockets, 2);
    for (let i = 0; i < 3; i++) admission.end();
    assert.ok(a.paused, 'still above half');
    admission.end();
    assert.ok(!a.paused && !b.paused);
    assert.equal(admission.pendingSends, 2);
    admission.forget(socket(a));
  });

  it('maxPendingSends is a validated limit with a default', () => {
    assert.equal(DEFAULT_LIMITS.maxPendingSends, 4096);
    assert.throws(() => resolveLimits({ maxPendingSends: 0 }), { code: 'BAD_OPTION' });
  });
});
