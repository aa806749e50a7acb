import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeClientFrame, encodeRelayFrame } from '@pigeon/api';
import type { ClientFrame, RelayFrame } from '@pigeon/api';
import { RelayConnection } from '../src/index.js';
import type { SocketFactory, SocketHandlers } from '../src/index.js';

/** A scripted relay: each dial opens a fake socket; `reply` decides the answer to each request. */
function fakeRelay(reply: (frame: ClientFrame, dial: number) => RelayFrame | null, options: { refuse?: (dial: number) => boolean } = {}) {
  let dials = 0;
  const sockets: { handlers: SocketHandlers; closed: boolean }[] = [];
  const factory: SocketFactory = (_url, handlers) => {
    const dial = ++dials;
    const entry = { handlers, closed: false };
    sockets.push(entry);
    queueMicrotask(() => {
      if (options.refuse?.(dial)) {
        entry.closed = true;
        handlers.onClose(1006, '');
        return;
      }
      handlers.onOpen();
      handlers.onMessage(encodeRelayFrame({ type: 'challenge', nonce: new Uint8Array(32), relayTime: 0 }));
    });
    return {
      send(data) {
        const frame = decodeClientFrame(data);
        const answer = reply(frame, dial);
        if (answer) queueMicrotask(() => !entry.closed && handlers.onMessage(encodeRelayFrame(answer)));
      },
      close() {
        if (entry.closed) return;
        entry.closed = true;
        queueMicrotask(() => handlers.onClose(1000, ''));
      },
    };
  };
  return { factory, dials: () => dials, sockets };
}

const fast = { reconnectBaseMs: 5, reconnectMaxMs: 20, requestTimeoutMs: 200, keepaliveIntervalMs: 60_000, keepaliveTimeoutMs: 50 };

describe('RelayConnection', () => {
  it('matches replies to requests by id, also out of order', async () => {
    const held: RelayFrame[] = [];
    const relay = fakeRelay((f) => {
      if (f.type !== 'ping') return null;
      held.push({ type: 'pong', id: f.id });
      return null;
    });
    const conn = new RelayConnection({ ...fast, url: 'ws://x/', label: 't', socketFactory: relay.factory });
    conn.start();
    await conn.waitConnected(1000);
    const a = conn.request({ type: 'ping' });
    const b = conn.request({ type: 'ping' });
    const socket = relay.sockets[0]!;
    socket.handlers.onMessage(encodeRelayFrame(held[1]!));
    socket.handlers.onMessage(encodeRelayFrame(held[0]!));
    const [ra, rb] = await Promise.all([a, b]);
    assert.notEqual((ra as { id: number }).id, (rb as { id: number }).id);
    conn.stop();
  });

  it('turns error replies into RelayError and silence into TIMEOUT', async () => {
    const relay = fakeRelay((f) =>
      f.type === 'prekey_status' ? { type: 'error', id: f.id, code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 7 } : null,
    );
    const conn = new RelayConnection({ ...fast, url: 'ws://x/', label: 't', socketFactory: relay.factory });
    conn.start();
    await conn.waitConnected(1000);
    await assert.rejects(conn.request({ type: 'prekey_status' }), { name: 'RelayError', code: 'RATE_LIMITED', retryAfterMs: 7 });
    await assert.rejects(conn.request({ type: 'ping' }, 30), { code: 'TIMEOUT' });
    conn.stop();
  });

  it('reconnects with backoff until the relay answers, then resolves waiters', async () => {
    const relay = fakeRelay(() => null, { refuse: (dial) => dial < 4 });
    const states: string[] = [];
    const conn = new RelayConnection({ ...fast, url: 'ws://x/', label: 't', socketFactory: relay.factory, onState: (s) => states.push(s) });
    conn.start();
    await conn.waitConnected(5_000);
    assert.equal(relay.dials(), 4);
    assert.equal(conn.state(), 'connected');
    assert.deepEqual(states.slice(-2), ['connecting', 'connected']);
    conn.stop();
    assert.equal(conn.state(), 'offline');
  });

  it('gives up waiting with RELAY_UNREACHABLE, and RELAY_REJECTED when the handshake is refused', async () => {
    const dead = fakeRelay(() => null, { refuse: () => true });
    const conn = new RelayConnection({ ...fast, url: 'ws://x/', label: 't', socketFactory: dead.factory });
    conn.start();
    await assert.rejects(conn.waitConnected(50), { code: 'RELAY_UNREACHABLE' });
    conn.stop();

    const refusing = fakeRelay((f) => (f.type === 'auth' ? { type: 'error', id: f.id, code: 'AUTH_FAILED', message: 'no', retryAfterMs: 0 } : null));
    const auth = new RelayConnection({
      ...fast,
      url: 'ws://x/',
      label: 't',
      socketFactory: refusing.factory,
      handshake: async (c) => {
        await c.request({ type: 'auth', deviceId: new Uint8Array(16), signature: new Uint8Array(64) });
      },
    });
    auth.start();
    await assert.rejects(auth.waitConnected(100), { code: 'RELAY_REJECTED' });
    auth.stop();
  });

  it('drops a connection whose keepalive goes unanswered and redials', async () => {
    // The first socket swallows pings; the second answers them.
    const relay = fakeRelay((f, dial) => (f.type === 'ping' && dial > 1 ? { type: 'pong', id: f.id } : null));
    const conn = new RelayConnection({ ...fast, keepaliveIntervalMs: 10, url: 'ws://x/', label: 't', socketFactory: relay.factory });
    conn.start();
    await conn.waitConnected(1000);
    while (relay.dials() < 2) await new Promise((r) => setTimeout(r, 5));
    await conn.waitConnected(1000);
    assert.equal(relay.sockets[0]!.closed, true);
    conn.stop();
  });

  it('stop() rejects pending requests and waiters with CLOSED', async () => {
    const relay = fakeRelay(() => null);
    const conn = new RelayConnection({ ...fast, url: 'ws://x/', label: 't', socketFactory: relay.factory });
    conn.start();
    await conn.waitConnected(1000);
    const pending = conn.request({ type: 'ping' }, 10_000);
    conn.stop();
    await assert.rejects(pending, { code: 'CLOSED' });
    await assert.rejects(conn.waitConnected(10), { code: 'CLOSED' });
    await assert.rejects(conn.request({ type: 'ping' }), { code: 'RELAY_UNREACHABLE' });
  });
});
