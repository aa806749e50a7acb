/**
 * Without the secret from its link, a bridge is an ordinary website: to the lab's active prober
 * (replay, altered replay, random bytes, HTTP GET, WebSocket upgrade), and to replayed or altered
 * authenticated handshakes done by hand at the HTTP layer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { defaultBackend } from '@pigeon/crypto';
import { Censor, activeProbing, ipBlock } from '@pigeon/lab';
import type { ActiveProbingRule } from '@pigeon/lab';
import { AUTH_COOKIE, mintAuthToken, routesFromBridgeLink } from '@pigeon/transport';
import { befriend, labClient, startLabBridge, startLabRelay, waitForMessages } from './helpers.js';
import type { LabRelay } from './helpers.js';
import type { RunningBridge } from '../src/index.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A raw upgrade request over TLS with the given cookie; returns the HTTP status (101 or the website's). */
function upgrade(port: number, path: string, cookie: string | undefined): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      servername: 'static.example',
      rejectUnauthorized: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...(cookie !== undefined ? { Cookie: cookie } : {}),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, servername: 'static.example' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('bridge without its secret is a website', () => {
  let relay: LabRelay;
  let bridge: RunningBridge;
  before(async () => {
    relay = await startLabRelay();
    bridge = await startLabBridge(relay.url);
  });
  after(async () => {
    await bridge.stop();
    await relay.stop();
  });

  it('a valid token upgrades once; its replay, an altered token, a stale one and none get the 404 page', async () => {
    const crypto = defaultBackend();
    const path = bridge.info.path;
    const notFound = await get(bridge.port, path);
    assert.equal(notFound.status, 404);
    const home = await get(bridge.port, '/');
    assert.equal(home.status, 200);

    const token = await mintAuthToken(crypto, bridge.info.secret, 'websocket', Date.now());
    assert.equal((await upgrade(bridge.port, path, `${AUTH_COOKIE}=${token}`)).status, 101);
    const replay = await upgrade(bridge.port, path, `${AUTH_COOKIE}=${token}`);
    assert.deepEqual(replay, notFound, 'a replayed handshake gets exactly the website 404');

    const fresh = await mintAuthToken(crypto, bridge.info.secret, 'websocket', Date.now());
    const altered = fresh.slice(0, 20) + (fresh[20] === 'A' ? 'B' : 'A') + fresh.slice(21);
    assert.deepEqual(await upgrade(bridge.port, path, `${AUTH_COOKIE}=${altered}`), notFound);
    const stale = await mintAuthToken(crypto, bridge.info.secret, 'websocket', Date.now() - 10 * 60_000);
    assert.deepEqual(await upgrade(bridge.port, path, `${AUTH_COOKIE}=${stale}`), notFound);
    const wrongSecret = await mintAuthToken(crypto, crypto.randomBytes(32), 'websocket', Date.now());
    assert.deepEqual(await upgrade(bridge.port, path, `${AUTH_COOKIE}=${wrongSecret}`), notFound);
    const tunnelToken = await mintAuthToken(crypto, bridge.info.secret, 'tunnel', Date.now());
    assert.deepEqual(await upgrade(bridge.port, path, `${AUTH_COOKIE}=${tunnelToken}`), notFound, 'a tunnel token does not open a WebSocket');
    assert.deepEqual(await upgrade(bridge.port, path, undefined), notFound);
    assert.equal((await upgrade(bridge.port, '/other', `${AUTH_COOKIE}=${fresh}`)).status, 404);
    assert.ok(bridge.stats.refused.replayed >= 1 && bridge.stats.refused['bad-mac'] >= 2 && bridge.stats.refused.stale >= 1);
    // The running bridge never prints its secret or link.
    const { inspect } = await import('node:util');
    for (const text of [JSON.stringify(bridge), inspect(bridge)]) assert.ok(!text.includes(bridge.link.slice(16, 40)) && !text.includes('secret'), text);
  });

  it('random bytes inside TLS get an HTTP 400, like any web server', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: bridge.port, rejectUnauthorized: false, servername: 'static.example' }, () => {
        s.write(defaultBackend().randomBytes(221));
      });
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400/);
  });

  it("the lab's active prober, triggered by a real client's bridge connection, finds only a website", async () => {
    const prober = activeProbing({ targets: [`127.0.0.1:${bridge.port}`], delayMs: 300 }) as ActiveProbingRule;
    const censor = new Censor({ rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`] }), prober] });
    const net = { dialer: censor.dialer, resolver: censor.resolver };
    const routes = routesFromBridgeLink(bridge.link).slice(0, 1);
    const alice = await labClient('probe-a', { routes, net });
    const bob = await labClient('probe-b', { routes, net });
    try {
      const { bobAtAlice } = await befriend(alice, bob, relay.url);
      await censor.settled();
      await alice.client.send(bobAtAlice, 'after probing');
      await waitForMessages(bob, 1, 30_000, () => censor.explain());
      const verdict = prober.verdicts.get(`127.0.0.1:${bridge.port}`);
      assert.ok(verdict !== undefined, `the prober ran\n${censor.explain()}`);
      assert.equal(verdict.blocked, false, censor.explain());
      const kinds = new Set(verdict.results.map((r) => r.kind));
      for (const k of ['replay', 'altered-replay', 'random', 'http-get', 'websocket-upgrade']) assert.ok(kinds.has(k as never), `probe ${k} ran`);
      for (const r of verdict.results) assert.notEqual(r.class, 'suspicious', `${r.kind}: ${r.summary}`);
      console.log(`# probes: ${verdict.results.map((r) => `${r.kind}=${r.outcome}`).join(', ')}`);
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });
});
