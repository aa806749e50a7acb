/**
 * Every route kind end to end: two real SDK clients chat through the racer over real sockets,
 * with the lab censor on the clients' wire blocking the relay itself so the route under test is
 * the only way through.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Censor, ipBlock, staticResolver } from '@pigeon/lab';
import { parseProxyUrl, routesFromBridgeLink, toPinHex } from './route-helpers.js';
import type { Route } from '@pigeon/transport';
import { befriend, labCertificate, labClient, startLabBridge, startLabRelay, texts, waitForMessages } from './helpers.js';
import type { LabClient, LabRelay } from './helpers.js';
import type { RunningBridge } from '../src/index.js';

async function chat(name: string, routes: Route[], censor: Censor, relayUrl: string, options: { includeDirect?: boolean } = {}): Promise<void> {
  const net = { dialer: censor.dialer, resolver: censor.resolver };
  const alice = await labClient(`${name}-a`, { routes, net, ...options });
  const bob = await labClient(`${name}-b`, { routes, net, ...options });
  try {
    const started = Date.now();
    const { bobAtAlice, aliceAtBob } = await befriend(alice, bob, relayUrl);
    const sent = ['one', 'two', 'three'].map((t) => `${name}: ${t}`);
    for (const t of sent) await alice.client.send(bobAtAlice, t);
    await bob.client.send(aliceAtBob, `${name}: reply`);
    await waitForMessages(bob, sent.length, 45_000, () => censor.explain());
    await waitForMessages(alice, 1, 45_000, () => censor.explain());
    assert.deepEqual([...texts(bob)].sort(), [...sent].sort());
    assert.ok(texts(alice).includes(`${name}: reply`));
    console.log(`# ${name}: set up and chatted in ${Date.now() - started} ms via ${alice.racer.status()?.route}`);
    const used = alice.racer.status()?.route ?? '';
    assert.ok(used.startsWith(routes[0]!.kind), `expected a ${routes[0]!.kind} route, got ${used}\n${censor.explain()}`);
  } finally {
    await alice.close();
    await bob.close();
  }
}

describe('routes end to end', () => {
  let relay: LabRelay;
  let bridge: RunningBridge;
  const servers: { close(): void }[] = [];
  before(async () => {
    relay = await startLabRelay();
    bridge = await startLabBridge(relay.url);
  });
  after(async () => {
    for (const s of servers) s.close();
    await bridge.stop();
    await relay.stop();
  });

  it('direct ws:// (the default single route)', async () => {
    const censor = new Censor();
    try {
      await chat('direct', [{ kind: 'direct', url: relay.url }], censor, relay.url);
    } finally {
      await censor.close();
    }
  });

  it('direct wss:// through a TLS terminator, verified against a CA', async () => {
    const cert = labCertificate();
    const tls = createTlsServer({ cert: cert.cert, key: cert.key }, (s) => {
      const up = netConnect(relay.port, '127.0.0.1');
      s.pipe(up).pipe(s);
      up.on('error', () => s.destroy());
      s.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    servers.push(tls);
    const port = (tls.address() as { port: number }).port;
    const url = `wss://localhost:${port}/pigeon`;
    const censor = new Censor({ rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`], action: 'reject' })] });
    try {
      await chat('wss', [{ kind: 'direct', url, ca: cert.cert }], censor, url, { includeDirect: false });
    } finally {
      await censor.close();
    }
  });

  it('bridge (pinned TLS + WebSocket + HMAC cookie) while the relay is IP-blocked', async () => {
    const censor = new Censor({ rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`] })] });
    try {
      await chat('bridge', routesFromBridgeLink(bridge.link).slice(0, 1), censor, relay.url);
    } finally {
      await censor.close();
    }
  });

  it('tunnel of short HTTPS exchanges while the relay is IP-blocked', async () => {
    const censor = new Censor({ rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`] })] });
    try {
      await chat('tunnel', routesFromBridgeLink(bridge.link).slice(1), censor, relay.url);
    } finally {
      await censor.close();
    }
  });

  it('domain fronting: TLS to the front (SNI = front), Host = the hidden relay', async () => {
    const cert = labCertificate();
    // A "CDN": terminates TLS for its own name and forwards by Host to the relay it knows.
    const seenHosts: string[] = [];
    const front = createTlsServer({ cert: cert.cert, key: cert.key }, (s) => {
      const up = netConnect(relay.port, '127.0.0.1');
      s.once('data', (first: Buffer) => {
        seenHosts.push(/\r\nhost: ([^\r]+)/i.exec(first.toString('latin1'))?.[1] ?? '');
        up.write(first);
        s.pipe(up).pipe(s);
      });
      up.on('error', () => s.destroy());
      s.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    servers.push(front);
    const frontPort = (front.address() as { port: number }).port;
    const hiddenUrl = `ws://relay.example:${relay.port}/pigeon`;
    const censor = new Censor({
      upstreamResolver: staticResolver({ 'relay.example': '127.0.0.1', 'static.example': '127.0.0.1' }),
      rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`] })],
    });
    try {
      await chat('fronted', [{ kind: 'fronted', url: hiddenUrl, front: 'static.example', frontPort, pinSha256: toPinHex(cert.sha256) }], censor, hiddenUrl);
      assert.ok(seenHosts.includes(`relay.example:${relay.port}`), `front saw hosts ${seenHosts.join(', ')}`);
      assert.ok(censor.log.every((e) => e.sni === undefined || e.sni === 'static.example'));
    } finally {
      await censor.close();
    }
  });

  for (const kind of ['socks5h', 'http'] as const) {
    it(`${kind} proxy wrapping the bridge route (the proxy is the only reachable address)`, async () => {
      const proxy = kind === 'http' ? await startConnectProxy() : await startSocksProxy();
      servers.push(proxy.server);
      const censor = new Censor({
        rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`, `127.0.0.1:${bridge.port}`] })],
      });
      try {
        const spec = parseProxyUrl(`${kind}://127.0.0.1:${proxy.port}`);
        const routes = routesFromBridgeLink(bridge.link, spec).slice(0, 1);
        await chat(`${kind}-proxy`, routes, censor, relay.url);
        assert.ok(proxy.targets.length > 0, 'the proxy carried the connections');
        console.log(`# ${kind} proxy targets: ${[...new Set(proxy.targets)].join(', ')}`);
      } finally {
        await censor.close();
      }
    });
  }
});

/** A minimal SOCKS5 server (no auth, CONNECT only, names resolved here as with socks5h). */
async function startSocksProxy(): Promise<{ server: NetServer; port: number; targets: string[] }> {
  const targets: string[] = [];
  const server = createNetServer((client: Socket) => {
    client.on('error', () => client.destroy());
    let stage = 0;
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 0 && buf.length >= 2 && buf.length >= 2 + buf[1]!) {
        buf = buf.subarray(2 + buf[1]!);
        client.write(Buffer.from([5, 0]));
        stage = 1;
      }
      if (stage === 1 && buf.length >= 5) {
        const atyp = buf[3];
        const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buf[4]!;
        if (buf.length < 4 + addrLen + 2) return;
        const host = atyp === 1 ? [...buf.subarray(4, 8)].join('.') : atyp === 3 ? buf.subarray(5, 5 + buf[4]!).toString() : '::1';
        const port = buf.readUInt16BE(4 + addrLen);
        const rest = buf.subarray(4 + addrLen + 2);
        stage = 2;
        client.off('data', onData);
        targets.push(`${host}:${port}`);
        const up = netConnect(port, host === 'localhost' ? '127.0.0.1' : host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          if (rest.length > 0) up.write(rest);
          client.pipe(up).pipe(client);
        });
        up.on('error', () => {
          client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
        });
      }
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, targets };
}

/** A minimal HTTP CONNECT proxy. */
async function startConnectProxy(): Promise<{ server: NetServer; port: number; targets: string[] }> {
  const targets: string[] = [];
  const server = createNetServer((client: Socket) => {
    client.on('error', () => client.destroy());
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const m = /^CONNECT ([^\s:]+|\[[^\]]+\]):(\d+) HTTP/.exec(buf.toString('latin1'));
      if (m === null) {
        client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        return;
      }
      targets.push(`${m[1]}:${m[2]}`);
      const rest = buf.subarray(end + 4);
      const up = netConnect(Number(m[2]), m[1]!, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length > 0) up.write(rest);
        client.pipe(up).pipe(client);
      });
      up.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, targets };
}
