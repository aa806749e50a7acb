import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { API_VERSION, CLIENT_FRAME_TYPES, CLOSE_CODES, MAX_FRAME_BYTES, encodeClientFrame, encodeRelayFrame, type ErrorFrame } from '@pigeon/api';
import { TestClient } from './helpers/client.js';
import { assertError, assertOk, authenticated, hex, randomToken, registered, sendTo, setTokens, startTestRelay, type Session, type TestRelay } from './helpers/harness.js';

/** After any abuse: a well-behaved client still registers, sends and receives, and stored mail is intact. */
async function assertHealthy(relay: TestRelay, stored: Session, storedIds: string[], token: Uint8Array): Promise<void> {
  const { client } = await registered(relay.url);
  assert.equal((await client.request({ type: 'ping', id: 1 })).type, 'pong');
  assertOk(await sendTo(client, stored.device, token, new Uint8Array([1])));
  await client.close();
  const usage = await relay.relay.store.mailboxUsage(stored.device.deviceId);
  assert.ok(usage.messages >= storedIds.length);
  const pending = await relay.relay.store.pending(stored.device.deviceId, 0, Date.now(), 1000);
  const ids = new Set(pending.map((p) => hex(p.messageId)));
  for (const id of storedIds) assert.ok(ids.has(id), 'stored message lost');
}

describe('relay: hostile clients', () => {
  let relay: TestRelay;
  let victim: Session;
  let token: Uint8Array;
  const storedIds: string[] = [];

  before(async () => {
    relay = await startTestRelay({ limits: { maxBadFrames: 3 } });
    token = randomToken();
    victim = await registered(relay.url);
    await setTokens(victim.client, [token]);
    await victim.client.close();
    const sender = await TestClient.connect(relay.url);
    for (let i = 0; i < 3; i++) {
      const id = new Uint8Array(randomBytes(16));
      assertOk(await sendTo(sender, victim.device, token, new Uint8Array([i]), id));
      storedIds.push(hex(id));
    }
    await sender.close();
  });
  after(() => relay.relay.stop());

  it('answers garbage with BAD_FRAME and closes after maxBadFrames (BAD_FRAMES)', async () => {
    const c = await TestClient.connect(relay.url);
    c.sendRaw(new Uint8Array([1]));
    assertError(await c.next((f) => f.type === 'error'), 'BAD_FRAME');
    c.sendRaw(new Uint8Array(randomBytes(100)).fill(API_VERSION, 0, 1).fill(0x7e, 1, 2));
    assertError(await c.next((f) => f.type === 'error'), 'BAD_FRAME');
    c.sendRaw('text frame');
    assertError(await c.next((f) => f.type === 'error'), 'BAD_FRAME');
    assert.equal((await c.closed).code, CLOSE_CODES.BAD_FRAMES);
    await assertHealthy(relay, victim, storedIds, token);
  });

  it('random bytes never crash the relay', async () => {
    for (let round = 0; round < 20; round++) {
      const c = await TestClient.connect(relay.url);
      for (let i = 0; i < 3; i++) {
        const junk = new Uint8Array(randomBytes(1 + (round * 37 + i * 11) % 400));
        if (i === 1) junk[0] = API_VERSION; // some with a plausible header
        if (i === 2) {
          junk[0] = API_VERSION;
          junk[1] = Object.values(CLIENT_FRAME_TYPES)[round % 9]!;
        }
        c.sendRaw(junk);
      }
      // Either the relay has had enough (BAD_FRAMES) or it still answers.
      c.sendFrame({ type: 'ping', id: 99 });
      await Promise.race([c.next((f) => f.type === 'pong'), c.closed]);
      await c.close();
    }
    await assertHealthy(relay, victim, storedIds, token);
  });

  it('truncated and padded valid frames get BAD_FRAME with the request id', async () => {
    const c = await TestClient.connect(relay.url);
    const ping = encodeClientFrame({ type: 'ping', id: 4242 });
    const padded = new Uint8Array(ping.length + 1);
    padded.set(ping);
    c.sendRaw(padded);
    const e = (await c.next((f) => f.type === 'error')) as ErrorFrame;
    assert.equal(e.code, 'BAD_FRAME');
    assert.equal(e.id, 4242);
    await c.close();
  });

  it('another API version gets UNSUPPORTED_VERSION; relay frames from a client get UNEXPECTED_FRAME', async () => {
    const c = await TestClient.connect(relay.url);
    const ping = encodeClientFrame({ type: 'ping', id: 1 });
    ping[0] = API_VERSION + 1;
    c.sendRaw(ping);
    assertError(await c.next((f) => f.type === 'error'), 'UNSUPPORTED_VERSION');
    c.sendRaw(encodeRelayFrame({ type: 'ok', id: 5 }));
    assertError(await c.next((f) => f.type === 'error'), 'UNEXPECTED_FRAME');
    await c.close();
  });

  it('a list above its wire limit is LIMIT_EXCEEDED and does not count as garbage', async () => {
    const c = await TestClient.connect(relay.url);
    for (let i = 0; i < 5; i++) {
      c.sendRaw(new Uint8Array([API_VERSION, CLIENT_FRAME_TYPES.ack, 0, 0, 0, 9, 0xff, 0xff]));
      const e = (await c.next((f) => f.type === 'error')) as ErrorFrame;
      assert.equal(e.code, 'LIMIT_EXCEEDED');
      assert.equal(e.id, 9);
    }
    assert.equal((await c.request({ type: 'ping', id: 10 })).type, 'pong');
    await c.close();
  });

  it('a frame above MAX_FRAME_BYTES closes the connection with 1009', async () => {
    const c = await TestClient.connect(relay.url);
    c.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1));
    assert.equal((await c.closed).code, CLOSE_CODES.TOO_BIG);
    await assertHealthy(relay, victim, storedIds, token);
  });

  it('rate limits per connection with RATE_LIMITED + retryAfterMs, then closes a persistent abuser', async () => {
    const limited = await startTestRelay({
      limits: { connectionFramesPerSecond: 0.001, connectionFrameBurst: 5, maxRateLimitStrikes: 3 },
    });
    try {
      const c = await TestClient.connect(limited.url);
      const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => c.request({ type: 'ping', id: i + 1 })));
      assert.equal(replies.filter((r) => r.type === 'pong').length, 5);
      const e = replies.find((r) => r.type === 'error') as ErrorFrame;
      assert.equal(e.code, 'RATE_LIMITED');
      assert.equal(e.id, 6);
      assert.ok(e.retryAfterMs > 0);
      for (let i = 0; i < 5; i++) c.sendFrame({ type: 'ping', id: 100 + i });
      assert.equal((await c.closed).code, CLOSE_CODES.RATE_LIMITED);
      // Others are unaffected (their own bucket; the address bucket is large).
      const other = await TestClient.connect(limited.url);
      assert.equal((await other.request({ type: 'ping', id: 1 })).type, 'pong');
      await other.close();
    } finally {
      await limited.relay.stop();
    }
  });

  it('rate limits per address across connections', async () => {
    const limited = await startTestRelay({ limits: { addressFramesPerSecond: 0.001, addressFrameBurst: 4 } });
    try {
      const a = await TestClient.connect(limited.url);
      const b = await TestClient.connect(limited.url);
      const replies = await Promise.all([
        a.request({ type: 'ping', id: 1 }),
        a.request({ type: 'ping', id: 2 }),
        b.request({ type: 'ping', id: 3 }),
        b.request({ type: 'ping', id: 4 }),
      ]);
      assert.ok(replies.every((r) => r.type === 'pong'));
      assertError(await b.request({ type: 'ping', id: 5 }), 'RATE_LIMITED');
      assertError(await a.request({ type: 'ping', id: 6 }), 'RATE_LIMITED');
      await a.close();
      await b.close();
    } finally {
      await limited.relay.stop();
    }
  });

  it('limits connections per address (TOO_MANY_CONNECTIONS) and accepts again when one closes', async () => {
    const limited = await startTestRelay({ limits: { maxConnectionsPerAddress: 2 } });
    try {
      const a = await TestClient.connect(limited.url);
      const b = await TestClient.connect(limited.url);
      const c = TestClient.open(limited.url);
      assert.equal((await c.closed).code, CLOSE_CODES.TOO_MANY_CONNECTIONS);
      await a.close();
      // The relay counts the close asynchronously; retry until the slot is free (bounded).
      let d: TestClient | undefined;
      for (let attempt = 0; attempt < 50 && d === undefined; attempt++) {
        const candidate = TestClient.open(limited.url);
        const first = await Promise.race([candidate.next((f) => f.type === 'challenge').then(() => 'open' as const), candidate.closed.then(() => 'closed' as const)]);
        if (first === 'open') d = candidate;
        else await new Promise((r) => setImmediate(r));
      }
      assert.ok(d, 'a slot should free up after a close');
      await d.close();
      await b.close();
    } finally {
      await limited.relay.stop();
    }
  });

  it('closes connections that send nothing (AUTH_TIMEOUT) but lets unauthenticated senders be', async () => {
    const timed = await startTestRelay({ limits: { helloTimeoutMs: 100, idleTimeoutMs: 60_000 } });
    try {
      const silent = await TestClient.connect(timed.url);
      assert.equal((await silent.closed).code, CLOSE_CODES.AUTH_TIMEOUT);
      const sender = await TestClient.connect(timed.url);
      assert.equal((await sender.request({ type: 'ping', id: 1 })).type, 'pong');
      // Still open after the hello timeout has long passed (not authenticated, but active).
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await sender.request({ type: 'ping', id: 2 })).type, 'pong');
      await sender.close();
    } finally {
      await timed.relay.stop();
    }
  });

  it('closes unauthenticated connections idle longer than idleTimeoutMs (GOING_AWAY)', async () => {
    const timed = await startTestRelay({ limits: { idleTimeoutMs: 100 } });
    try {
      const c = await TestClient.connect(timed.url);
      assert.equal((await c.request({ type: 'ping', id: 1 })).type, 'pong');
      assert.equal((await c.closed).code, CLOSE_CODES.GOING_AWAY);
      // An authenticated connection is allowed to wait for mail.
      const { client, device } = await registered(timed.url);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await client.request({ type: 'ping', id: 2 })).type, 'pong');
      await client.close();
      void device;
    } finally {
      await timed.relay.stop();
    }
  });

  it('a failing store answers INTERNAL, keeps stored data, and the relay keeps serving', async () => {
    const { openSqliteStore } = await import('../src/store/sqlite-store.js');
    const real = openSqliteStore();
    let failNext = false;
    const store = new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (failNext && (prop === 'enqueue' || prop === 'hasDeliveryToken')) {
            failNext = false;
            return Promise.reject(new Error('SQLITE_IOERR: disk I/O error'));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const flaky = await startTestRelay({ store });
    try {
      const t = randomToken();
      const bob = await registered(flaky.url);
      await setTokens(bob.client, [t]);
      await bob.client.close();
      const sender = await TestClient.connect(flaky.url);
      assertOk(await sendTo(sender, bob.device, t, new Uint8Array([1])));
      failNext = true;
      assertError(await sendTo(sender, bob.device, t, new Uint8Array([2])), 'INTERNAL');
      assertOk(await sendTo(sender, bob.device, t, new Uint8Array([3])));
      assert.equal((await real.mailboxUsage(bob.device.deviceId)).messages, 2);
      await sender.close();
    } finally {
      await flaky.relay.stop();
      await real.close();
    }
  });

  it('after all that, the victim receives its stored mail', async () => {
    const client = await authenticated(relay.url, victim.device);
    const got = new Set<string>();
    for (;;) {
      const f = await client.next((x) => x.type === 'deliver' || x.type === 'queue_empty');
      if (f.type === 'queue_empty') break;
      if (f.type === 'deliver') got.add(hex(f.messageId));
    }
    for (const id of storedIds) assert.ok(got.has(id));
    await client.close();
  });
});
