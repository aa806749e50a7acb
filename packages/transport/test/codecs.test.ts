import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBackend } from '@pigeon/crypto';
import { decodeInviteLink, encodeInviteLink, MAX_INVITE_ROUTES } from '@pigeon/client';
import {
  AUTH_TOKEN_BYTES,
  BRIDGE_LINK_PREFIX,
  FrameReassembler,
  MAX_BRIDGE_LINK_CHARS,
  MAX_CLOCK_SKEW_MS,
  OffsetBuffer,
  ReplayCache,
  RouteBook,
  TransportError,
  decodeBridgeLink,
  decodeTunnelRequest,
  decodeTunnelResponse,
  encodeBridgeLink,
  encodeTunnelRequest,
  encodeTunnelResponse,
  frameRecord,
  memoryRouteMemory,
  mintAuthToken,
  parseProxyUrl,
  routeFromRecord,
  routeLabel,
  routeToRecord,
  routesFromBridgeLink,
  tokenFromCookie,
  verifyAuthToken,
} from '../src/index.js';
import type { BridgeInfo, Route } from '../src/index.js';

const crypto = defaultBackend();

function sampleBridge(extra: Partial<BridgeInfo> = {}): BridgeInfo {
  return {
    host: '203.0.113.7',
    port: 443,
    certSha256: crypto.randomBytes(32),
    secret: crypto.randomBytes(32),
    relayUrl: 'wss://relay.example/pigeon',
    path: '/static/abc',
    ...extra,
  };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof TransportError ? err.code : `not a TransportError: ${String(err)}`;
  }
  return undefined;
}

describe('bridge links', () => {
  it('round-trip, with and without sni/front', () => {
    for (const b of [sampleBridge(), sampleBridge({ sni: 'static.example', front: 'cdn.example', host: 'bridge.example', port: 8443 })]) {
      const link = encodeBridgeLink(b);
      assert.ok(link.startsWith(BRIDGE_LINK_PREFIX));
      assert.ok(link.length < MAX_BRIDGE_LINK_CHARS);
      assert.deepEqual(decodeBridgeLink(link), b);
    }
  });

  it('malformed links are BAD_LINK, never a crash', () => {
    const good = encodeBridgeLink(sampleBridge());
    const bad = [
      '',
      'pigeon://invite/AAAA',
      BRIDGE_LINK_PREFIX,
      BRIDGE_LINK_PREFIX + '!!!',
      good.slice(0, -5),
      good + 'AAAA',
      BRIDGE_LINK_PREFIX + 'A'.repeat(MAX_BRIDGE_LINK_CHARS),
      BRIDGE_LINK_PREFIX + Buffer.from([9]).toString('base64url'),
    ];
    for (const link of bad) assert.equal(code(() => decodeBridgeLink(link)), 'BAD_LINK', link.slice(0, 40));
    // Every truncation of a valid payload is refused.
    const payload = Buffer.from(good.slice(BRIDGE_LINK_PREFIX.length), 'base64url');
    for (let n = 0; n < payload.length; n++) {
      assert.equal(code(() => decodeBridgeLink(BRIDGE_LINK_PREFIX + payload.subarray(0, n).toString('base64url'))), 'BAD_LINK');
    }
    assert.equal(code(() => encodeBridgeLink(sampleBridge({ path: 'no-slash' }))), 'BAD_LINK');
    assert.equal(code(() => encodeBridgeLink(sampleBridge({ port: 0 }))), 'BAD_LINK');
  });

  it('invite links carry bridge links compatibly (old links decode unchanged)', () => {
    const base = {
      relayUrl: 'wss://relay.example/pigeon',
      accountKey: crypto.randomBytes(32),
      deliveryToken: crypto.randomBytes(32),
      displayName: 'Alice',
      inviteSecret: crypto.randomBytes(16),
    };
    const plain = encodeInviteLink(base);
    assert.equal(decodeInviteLink(plain).routes, undefined);
    const bridges = [encodeBridgeLink(sampleBridge()), encodeBridgeLink(sampleBridge({ sni: 'static.example' }))];
    const withRoutes = encodeInviteLink({ ...base, routes: bridges });
    assert.ok(withRoutes.startsWith(plain.slice(0, 40)));
    assert.deepEqual(decodeInviteLink(withRoutes).routes, bridges);
    assert.throws(() => encodeInviteLink({ ...base, routes: Array(MAX_INVITE_ROUTES + 1).fill(bridges[0]) }));
  });
});

describe('bridge auth tokens', () => {
  it('accepts a fresh token once; replay, alteration, staleness, wrong secret or purpose are refused', async () => {
    const secret = crypto.randomBytes(32);
    const cache = new ReplayCache();
    const now = Date.now();
    const token = await mintAuthToken(crypto, secret, 'websocket', now);
    assert.equal(Buffer.from(token, 'base64url').length, AUTH_TOKEN_BYTES);
    assert.equal(await verifyAuthToken(crypto, secret, token, 'websocket', now, cache), 'ok');
    assert.equal(await verifyAuthToken(crypto, secret, token, 'websocket', now, cache), 'replayed');
    const raw = Buffer.from(await mintAuthToken(crypto, secret, 'websocket', now), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i]! ^= 0x01;
      const v = await verifyAuthToken(crypto, secret, altered.toString('base64url'), 'websocket', now, cache);
      assert.ok(v === 'bad-mac' || v === 'malformed', `byte ${i}: ${v}`);
    }
    const stale = await mintAuthToken(crypto, secret, 'websocket', now - MAX_CLOCK_SKEW_MS - 1000);
    assert.equal(await verifyAuthToken(crypto, secret, stale, 'websocket', now, cache), 'stale');
    const other = await mintAuthToken(crypto, crypto.randomBytes(32), 'websocket', now);
    assert.equal(await verifyAuthToken(crypto, secret, other, 'websocket', now, cache), 'bad-mac');
    const tunnel = await mintAuthToken(crypto, secret, 'tunnel', now);
    assert.equal(await verifyAuthToken(crypto, secret, tunnel, 'websocket', now, cache), 'wrong-purpose');
    for (const junk of ['', '***', 'AAAA', 'A'.repeat(200)]) assert.equal(await verifyAuthToken(crypto, secret, junk, 'websocket', now, cache), 'malformed');
  });

  it('the replay cache is bounded and fails closed when full of live entries', () => {
    const cache = new ReplayCache(2);
    assert.equal(cache.add('a', 100, 0), 'added');
    assert.equal(cache.add('b', 100, 0), 'added');
    assert.equal(cache.add('c', 100, 0), 'full');
    assert.equal(cache.add('c', 100, 200), 'added', 'expired entries make room');
    assert.equal(cache.size, 1);
  });

  it('finds the token among other cookies', () => {
    assert.equal(tokenFromCookie('theme=dark; sid=abc; x=1'), 'abc');
    assert.equal(tokenFromCookie('theme=dark'), undefined);
    assert.equal(tokenFromCookie(undefined), undefined);
  });
});

describe('tunnel wire', () => {
  it('requests and responses round-trip; garbage is TUNNEL_FAILED', () => {
    const req = { op: 'poll' as const, session: crypto.randomBytes(16), upOffset: 2 ** 40, ackDown: 12345, maxDown: 8000, data: crypto.randomBytes(33) };
    assert.deepEqual(decodeTunnelRequest(encodeTunnelRequest(req)), req);
    const res = { status: 'ok' as const, ackUp: 7, downOffset: 2 ** 33, data: crypto.randomBytes(10) };
    assert.deepEqual(decodeTunnelResponse(encodeTunnelResponse(res)), res);
    for (const junk of [new Uint8Array(0), new Uint8Array(5), Uint8Array.of(2, ...new Uint8Array(40)), Uint8Array.of(1, 9, ...new Uint8Array(40))]) {
      assert.throws(() => decodeTunnelRequest(junk), (e: unknown) => e instanceof TransportError && e.code === 'TUNNEL_FAILED');
      assert.throws(() => decodeTunnelResponse(junk), (e: unknown) => e instanceof TransportError && e.code === 'TUNNEL_FAILED');
    }
  });

  it('frames split at every offset reassemble exactly once', () => {
    const frames = [crypto.randomBytes(5), new Uint8Array(0), crypto.randomBytes(300)];
    const stream = Buffer.concat(frames.map(frameRecord));
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new FrameReassembler(1000);
      const out = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      assert.deepEqual(out.map((f) => Buffer.from(f).toString('hex')), frames.map((f) => Buffer.from(f).toString('hex')));
    }
    assert.throws(() => new FrameReassembler(10).push(frameRecord(new Uint8Array(11))), (e: unknown) => e instanceof TransportError);
  });

  it('the offset buffer reads any window and drops what is acknowledged', () => {
    const b = new OffsetBuffer();
    const data = crypto.randomBytes(100);
    b.append(data.subarray(0, 30));
    b.append(data.subarray(30, 31));
    b.append(data.subarray(31));
    for (let from = 0; from <= 100; from += 7) assert.deepEqual(b.read(from, 13), data.subarray(from, Math.min(100, from + 13)));
    b.ackTo(45);
    assert.equal(b.base, 45);
    assert.equal(b.length, 55);
    assert.deepEqual(b.read(0, 10), data.subarray(45, 55), 'reads below base start at base');
    b.ackTo(500); // beyond the end: ignored
    assert.equal(b.base, 45);
    b.ackTo(100);
    assert.equal(b.length, 0);
  });
});

describe('routes and the route book', () => {
  it('records round-trip and labels never contain secrets', () => {
    const link = encodeBridgeLink(sampleBridge());
    const routes: Route[] = [
      { kind: 'direct', url: 'wss://relay.example/pigeon' },
      ...routesFromBridgeLink(link, parseProxyUrl('socks5h://127.0.0.1:9050')),
      { kind: 'fronted', url: 'wss://relay.example/pigeon', front: 'cdn.example', frontPort: 443 },
    ];
    for (const r of routes) {
      const back = routeFromRecord(JSON.parse(JSON.stringify(routeToRecord(r))));
      assert.equal(routeLabel(back), routeLabel(r));
      assert.ok(!routeLabel(r).includes(Buffer.from(decodeBridgeLink(link).secret).toString('hex').slice(0, 16)));
    }
    assert.equal(code(() => routeFromRecord({ kind: 'nope' })), 'BAD_ROUTE');
    assert.equal(code(() => routeFromRecord(null)), 'BAD_ROUTE');
    assert.equal(code(() => parseProxyUrl('ftp://x')), 'BAD_ROUTE');
  });

  it('stores routes deduplicated, skips damaged entries, remembers the last good one', () => {
    const memory = memoryRouteMemory();
    const book = new RouteBook(memory);
    const routes = routesFromBridgeLink(encodeBridgeLink(sampleBridge()));
    assert.equal(book.add(routes).length, 2);
    assert.equal(book.add(routes).length, 0);
    memory.set('transport.routes', JSON.stringify([...JSON.parse(memory.get('transport.routes')!), { kind: 'bridge', link: 'junk' }]));
    assert.equal(book.routes().length, 2);
    book.setLastGood('wss://relay.example/pigeon', routeLabel(routes[1]!));
    assert.equal(book.lastGood('wss://relay.example/pigeon'), routeLabel(routes[1]!));
    assert.equal(book.remove('tunnel'), 1);
    memory.set('transport.routes', '{not json');
    assert.deepEqual(book.routes(), []);
  });
});
