/**
 * The send -> deliver hot path: messages pushed from memory to a caught-up connection (never twice
 * on one connection, never out of order, re-sent after a reconnect), the send-auth cache
 * (send-auth-cache.ts) and send admission (admission.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_VERSION, CLIENT_FRAME_TYPES, type DeliverFrame } from '@pigeon/api';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { RelayStore } from '../src/store/types.js';
import { BUSY_RETRY_MIN_MS, BUSY_RETRY_SPREAD_MS, SendAdmission } from '../src/admission.js';
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

describe('SendAdmission', () => {
  it('counts sends in up to maxPendingSends, refuses beyond, and takes sends again once answered', () => {
    const admission = new SendAdmission(3, () => 0.5);
    assert.ok(admission.tryBegin() && admission.tryBegin() && admission.tryBegin());
    assert.equal(admission.tryBegin(), false);
    assert.equal(admission.refused, 1);
    assert.equal(admission.pendingSends, 3);
    admission.end();
    assert.ok(admission.tryBegin());
    assert.equal(admission.retryAfterMs(), BUSY_RETRY_MIN_MS + BUSY_RETRY_SPREAD_MS / 2);
  });

  it('a relay past maxPendingSends refuses sends with RATE_LIMITED and a jittered retryAfterMs, keeps reading acks, and takes them again', async () => {
    const busy = await startTestRelay({ limits: { maxPendingSends: 2 } });
    try {
      const token = randomToken();
      const bob = await registered(busy.url);
      await setTokens(bob.client, [token]);
      await bob.client.next((f) => f.type === 'queue_empty');
      const sender = await TestClient.connect(busy.url);
      // Sent in one go: the frames of one read are handled before the group commit answers any.
      const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => sendTo(sender, bob.device, token, text(`b${i}`))));
      const refused = replies.filter((r) => r.type === 'error');
      const stored = replies.filter((r) => r.type === 'ok');
      assert.ok(refused.length > 0, 'nothing refused');
      for (const r of refused) {
        assertError(r, 'RATE_LIMITED');
        const wait = (r as { retryAfterMs: number }).retryAfterMs;
        assert.ok(wait >= BUSY_RETRY_MIN_MS && wait < BUSY_RETRY_MIN_MS + BUSY_RETRY_SPREAD_MS, `retryAfterMs ${wait}`);
      }
      // Every accepted send is delivered, and acks go on being read.
      for (let i = 0; i < stored.length; i++) {
        const d = await bob.client.nextDeliver();
        assertOk(await bob.client.request({ type: 'ack', id: bob.client.id(), messageIds: [d.messageId] }));
      }
      // Answered sends left the count: a send now is taken.
      assertOk(await sendTo(sender, bob.device, token, text('after')));
      assert.equal(envelopeText(await bob.client.nextDeliver()), 'after');
      await sender.close();
      await bob.client.close();
    } finally {
      await busy.relay.stop();
    }
  });

  it('while full, a send is refused before it is decoded (a flood costs little)', async () => {
    const base = openSqliteStore();
    const held: (() => void)[] = [];
    // Enqueues wait until released: the one admitted send keeps the relay full.
    const store = new Proxy(base, {
      get(target, prop) {
        if (prop === 'enqueue') {
          return (...args: Parameters<RelayStore['enqueue']>) => {
            const result = target.enqueue(...args);
            return new Promise((resolve) => held.push(() => resolve(result)));
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as RelayStore;
    const full = await startTestRelay({ store, limits: { maxPendingSends: 1 } });
    try {
      const token = randomToken();
      const bob = await registered(full.url);
      await setTokens(bob.client, [token]);
      const sender = await TestClient.connect(full.url);
      const first = sendTo(sender, bob.device, token, text('first'));
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      // A truncated send frame: decoding it would answer BAD_FRAME; refused unread, it gets RATE_LIMITED.
      sender.sendRaw(new Uint8Array([API_VERSION, CLIENT_FRAME_TYPES.send, 0, 0, 0, 77, 1, 2, 3]));
      const refusal = await sender.next((f) => f.type === 'error' && f.id === 77);
      assertError(refusal, 'RATE_LIMITED');
      for (const release of held) release();
      assertOk(await first);
      await sender.close();
      await bob.client.close();
    } finally {
      for (const release of held) release();
      await full.relay.stop();
      await base.close();
    }
  });

  it('maxPendingSends is a validated limit with a default', () => {
    assert.equal(DEFAULT_LIMITS.maxPendingSends, 4096);
    assert.throws(() => resolveLimits({ maxPendingSends: 0 }), { code: 'BAD_OPTION' });
  });
});
