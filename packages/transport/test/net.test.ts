/**
 * Streams, the browser-like ClientHello, per-step failure codes, the racer's order and politeness,
 * and the doctor, over real sockets (a real relay where a relay is needed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBackend, toHex } from '@pigeon/crypto';
import { createRelay } from '@pigeon/relay';
import type { Relay } from '@pigeon/relay';
import { Censor, dnsPoison, parseClientHello, staticResolver, testCertificate } from '@pigeon/lab';
import {
  BROWSER_USER_AGENT,
  RouteRacer,
  TransportError,
  diagnoseRoutes,
  formatDiagnosisTable,
  openStream,
  realNet,
} from '../src/index.js';
import type { AttemptEvent, Route } from '../src/index.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function failureCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return err instanceof TransportError ? err.code : `other: ${String(err)}`;
  }
}

describe('streams and TLS', () => {
  it('sends a browser-like ClientHello: TLS 1.3 suites first, X25519 first, ALPN, SNI, no fully-random bytes', async () => {
    let first = Buffer.alloc(0);
    const server = createServer((s) => {
      s.on('data', (c: Buffer) => (first = Buffer.concat([first, c])));
      s.on('error', () => undefined);
    });
    const port = await listen(server);
    try {
      const code = await failureCode(openStream({ host: '127.0.0.1', port, tls: { servername: 'static.example', alpn: ['h2', 'http/1.1'] }, stepTimeoutMs: 500 }, realNet));
      assert.equal(code, 'TLS_FAILED', 'a server that never answers the ClientHello is a stalled TLS step');
      const parsed = parseClientHello(first);
      assert.equal(parsed.status, 'ok', JSON.stringify(parsed));
      const hello = (parsed as unknown as { hello: { cipherSuites: number[]; serverName?: string; alpn?: string[]; extensions: { type: number; data: Uint8Array }[] } }).hello;
      assert.deepEqual(hello.cipherSuites.slice(0, 3), [0x1301, 0x1302, 0x1303]);
      assert.equal(hello.cipherSuites[3], 0xc02b, 'then ECDHE-ECDSA-AES128-GCM-SHA256 as in Chrome');
      assert.equal(hello.serverName, 'static.example');
      assert.deepEqual(hello.alpn, ['h2', 'http/1.1']);
      const groups = hello.extensions.find((e) => e.type === 10)!.data;
      assert.equal((groups[2]! << 8) | groups[3]!, 0x001d, 'X25519 is the first supported group');
      assert.equal(first[0], 0x16, 'the first byte is a TLS handshake record');
      console.log(`# ClientHello: ${first.length} bytes, ${hello.cipherSuites.length} suites, ${hello.extensions.length} extensions`);
    } finally {
      server.close();
    }
  });

  it('names the failing step: DNS_FAILED, CONNECT_FAILED, PIN_MISMATCH', async () => {
    const censor = new Censor({ upstreamResolver: staticResolver({ 'relay.example': '127.0.0.1' }), rules: [dnsPoison({ names: ['relay.example'], answer: 'nxdomain' })] });
    try {
      assert.equal(await failureCode(openStream({ host: 'relay.example', port: 1 }, { dialer: censor.dialer, resolver: censor.resolver })), 'DNS_FAILED');
    } finally {
      await censor.close();
    }
    const closed = createServer();
    const closedPort = await listen(closed);
    closed.close();
    assert.equal(await failureCode(openStream({ host: '127.0.0.1', port: closedPort }, realNet)), 'CONNECT_FAILED');
    const cert = testCertificate();
    const tls = createTlsServer({ cert: cert.cert, key: cert.key }, (s) => s.on('error', () => undefined));
    const tlsPort = await listen(tls);
    try {
      const wrongPin = toHex(defaultBackend().randomBytes(32));
      assert.equal(await failureCode(openStream({ host: '127.0.0.1', port: tlsPort, tls: { pinSha256: wrongPin, alpn: ['http/1.1'] } }, realNet)), 'PIN_MISMATCH');
      assert.equal(await failureCode(openStream({ host: '127.0.0.1', port: tlsPort, tls: { servername: 'lab.test', alpn: ['http/1.1'] } }, realNet)), 'TLS_FAILED', 'self-signed without pin or CA');
      const ok = await openStream({ host: '127.0.0.1', port: tlsPort, tls: { servername: 'lab.test', ca: cert.cert, alpn: ['http/1.1'] } }, realNet);
      ok.destroy();
    } finally {
      tls.close();
    }
    assert.match(BROWSER_USER_AGENT, /Chrome\/\d+/);
  });
});

describe('racer and doctor against a real relay', () => {
  let relay: Relay;
  let url = '';
  let dir = '';
  let deadPort = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pigeon-transport-'));
    relay = createRelay({ port: 0, dataDir: dir, durability: 'normal' });
    url = (await relay.start()).url;
    const s = createServer();
    deadPort = await listen(s);
    s.close();
  });
  after(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function connectOnce(racer: RouteRacer): Promise<{ ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const socket = racer.factory(url, {
        onOpen: () => undefined,
        onMessage: () => {
          resolve({ ms: Date.now() - started });
          socket.close(1000, 'done');
        },
        onClose: (code, reason) => reject(new Error(`closed ${code} ${reason}`)),
      });
    });
  }

  it('skips a dead route, keeps the one on which the relay spoke, and starts with it next time', async () => {
    const events: AttemptEvent[] = [];
    // A route to the same relay through an address that refuses connections.
    const dead: Route = { kind: 'fronted', url, front: '127.0.0.1', frontPort: deadPort };
    const direct: Route = { kind: 'direct', url };
    const racer = new RouteRacer({ routes: [dead, direct], includeDirect: false, staggerMs: 2_000, onAttempt: (e) => events.push(e) });
    assert.deepEqual(racer.candidates(url).map((r) => r.kind), ['fronted', 'direct']);
    const { ms } = await connectOnce(racer);
    console.log(`# dead route then direct: ${ms} ms (a failure starts the next attempt at once, no stagger wait)`);
    assert.deepEqual(events.map((e) => `${e.route.split(' ')[0]} ${e.outcome}`), ['fronted started', 'fronted failed', 'direct started', 'direct won']);
    assert.deepEqual(racer.candidates(url).map((r) => r.kind), ['direct', 'fronted'], 'the winner goes first, the failed route last');
    assert.equal(racer.status(url)?.phase, 'idle');
  });

  it('rate-limits attempts per destination and reports NO_ROUTE when nothing is left', async () => {
    const events: AttemptEvent[] = [];
    const racer = new RouteRacer({ maxAttemptsPerMinute: 1, onAttempt: (e) => events.push(e) });
    await connectOnce(racer);
    const second = await connectOnce(racer).then(
      () => 'connected',
      (err: Error) => err.message,
    );
    assert.match(second, /NO_ROUTE/);
    assert.ok(events.some((e) => e.outcome === 'rate-limited'));
    assert.equal(racer.status(url)?.phase, 'no-route');
  });

  it('the doctor table shows what works and where the rest fails', async () => {
    const rows = await diagnoseRoutes(
      [
        { kind: 'direct', url },
        { kind: 'direct', url: `ws://127.0.0.1:${deadPort}/pigeon` },
        { kind: 'direct', url: url.replace('/pigeon', '/not-the-path') },
      ],
      { net: realNet, crypto: defaultBackend() },
      5_000,
    );
    const table = formatDiagnosisTable(rows);
    console.log(table.split('\n').map((l) => `# ${l}`).join('\n'));
    assert.deepEqual(rows.map((r) => r.ok), [true, false, false]);
    assert.equal(rows[1]!.failedStep, 'tcp');
    assert.match(rows[1]!.reason ?? '', /CONNECT_FAILED/);
    assert.equal(rows[2]!.failedStep, 'websocket');
    assert.match(table, /WORKS/);
  });
});
