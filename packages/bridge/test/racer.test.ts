/**
 * The racer under the lab censor: it finds a working route when direct is blocked, notices a stall
 * within seconds and switches without losing or duplicating a message, says 'no route' when every
 * route is blocked and delivers the queue once one appears; the tunnel survives the 16 KB freeze
 * and connection-rate policing. Times are printed, never asserted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer } from 'node:tls';
import { Censor, connectionRate, freeze, ipBlock, sniFilter, staticResolver } from '@pigeon/lab';
import { realDialer, routesFromBridgeLink } from '@pigeon/transport';
import type { AttemptEvent, RacerStatus } from '@pigeon/transport';
import { befriend, labCertificate, labClient, startLabBridge, startLabRelay, texts, waitForMessages } from './helpers.js';
import type { LabClient, LabRelay } from './helpers.js';
import type { RunningBridge } from '../src/index.js';

function assertExactlyOnce(receiver: LabClient, expected: readonly string[], explain: () => string): void {
  const got = texts(receiver).filter((t) => expected.includes(t));
  assert.equal(new Set(got).size, got.length, `duplicates: ${got.join(' | ')}\n${explain()}`);
  assert.deepEqual([...got].sort(), [...expected].sort(), explain());
  const inOrder = got.every((t, i) => t === expected[i]);
  console.log(`# ${expected.length} messages exactly once${inOrder ? ', in order' : ' (order differs)'}`);
}

describe('route racer under the lab censor', () => {
  let relay: LabRelay;
  let bridge: RunningBridge;
  let wss: TlsServer;
  let wssPort = 0;
  before(async () => {
    relay = await startLabRelay();
    bridge = await startLabBridge(relay.url);
    const cert = labCertificate();
    // The relay behind TLS under its own name, for the SNI filter.
    wss = createTlsServer({ cert: cert.cert, key: cert.key }, (s) => {
      const up = netConnect(relay.port, '127.0.0.1');
      s.pipe(up).pipe(s);
      up.on('error', () => s.destroy());
      s.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => wss.listen(0, '127.0.0.1', r));
    wssPort = (wss.address() as { port: number }).port;
  });
  after(async () => {
    wss.close();
    await bridge.stop();
    await relay.stop();
  });

  it('direct blocked by ipBlock from the start: the racer settles on the bridge', async () => {
    const censor = new Censor({ rules: [ipBlock({ destinations: [`127.0.0.1:${relay.port}`] })] });
    const net = { dialer: censor.dialer, resolver: censor.resolver };
    const routes = routesFromBridgeLink(bridge.link);
    const alice = await labClient('ipb-a', { routes, net });
    const bob = await labClient('ipb-b', { routes, net });
    try {
      const started = Date.now();
      const { bobAtAlice } = await befriend(alice, bob, relay.url);
      console.log(`# ipBlock: registered and befriended in ${Date.now() - started} ms via ${alice.racer.status()?.route}`);
      await alice.client.send(bobAtAlice, 'through the bridge');
      await waitForMessages(bob, 1, 30_000, () => censor.explain());
      assert.match(alice.racer.status()?.route ?? '', /^bridge /);
      // The memory: the next race starts with the bridge.
      assert.equal(alice.racer.candidates(relay.url)[0]?.kind, 'bridge');
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });

  it("SNI filter on the relay's name: the bridge with an innocuous SNI wins", async () => {
    const url = `wss://relay.example:${wssPort}/pigeon`;
    const cert = labCertificate();
    const censor = new Censor({
      upstreamResolver: staticResolver({ 'relay.example': '127.0.0.1', 'static.example': '127.0.0.1' }),
      rules: [sniFilter({ names: ['relay.example'], residualMs: 0 })],
    });
    const net = { dialer: censor.dialer, resolver: censor.resolver };
    // This bridge forwards to the TLS name of the relay, so its routes belong to that URL.
    const tlsBridge = await startLabBridge(url, {
      relayCa: cert.cert,
      net: { dialer: realDialer, resolver: staticResolver({ 'relay.example': '127.0.0.1' }) },
    });
    const routes = [{ kind: 'direct' as const, url, ca: cert.cert }, ...routesFromBridgeLink(tlsBridge.link)];
    const alice = await labClient('sni-a', { routes, net, includeDirect: false });
    const bob = await labClient('sni-b', { routes, net, includeDirect: false });
    try {
      const started = Date.now();
      const { bobAtAlice } = await befriend(alice, bob, url);
      console.log(`# sniFilter: connected in ${Date.now() - started} ms via ${alice.racer.status()?.route}`);
      await alice.client.send(bobAtAlice, 'past the SNI filter');
      await waitForMessages(bob, 1, 30_000, () => censor.explain());
      assert.match(alice.racer.status()?.route ?? '', /^(bridge|tunnel) /);
      assert.ok(censor.log.some((e) => e.rule === 'sniFilter'), censor.explain());
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
      await tlsBridge.stop();
    }
  });

  it('a stall mid-conversation (packets silently dropped) is noticed and the chat moves to another route, losslessly', async () => {
    const censor = new Censor();
    const net = { dialer: censor.dialer, resolver: censor.resolver };
    const routes = routesFromBridgeLink(bridge.link);
    const events: AttemptEvent[] = [];
    const alice = await labClient('stall-a', { routes, net, onAttempt: (e) => events.push(e) });
    const bob = await labClient('stall-b', { routes, net });
    try {
      const { bobAtAlice } = await befriend(alice, bob, relay.url);
      assert.match(alice.racer.status()?.route ?? '', /^direct /);
      const expected: string[] = [];
      for (let i = 0; i < 3; i++) expected.push(`before ${i}`);
      for (const t of expected) await alice.client.send(bobAtAlice, t);
      await waitForMessages(bob, 3, 30_000);
      // Switch the censor on: every open flow to the relay goes silent, new connects hang.
      const onset = Date.now();
      censor.set([ipBlock({ destinations: [`127.0.0.1:${relay.port}`], action: 'drop' })]);
      for (let i = 0; i < 5; i++) {
        const t = `during ${i}`;
        expected.push(t);
        await alice.client.send(bobAtAlice, t);
      }
      await waitForMessages(bob, expected.length, 60_000, () => censor.explain());
      const recovered = Date.now() - onset;
      const stalled = events.find((e) => e.at >= onset && (e.outcome === 'stalled' || e.outcome === 'lost'));
      console.log(`# stall: block onset -> all delivered in ${recovered} ms; stall noticed after ${stalled ? stalled.at - onset : '?'} ms; now via ${alice.racer.status()?.route}`);
      assertExactlyOnce(bob, expected, () => censor.explain());
      assert.match(alice.racer.status()?.route ?? '', /^(bridge|tunnel) /);
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });

  it('the 16 KB freeze on relay and bridge: the racer moves to the tunnel, which never reaches the threshold', async () => {
    const censor = new Censor();
    const net = { dialer: censor.dialer, resolver: censor.resolver };
    const routes = routesFromBridgeLink(bridge.link);
    const alice = await labClient('freeze-a', { routes, net });
    const bob = await labClient('freeze-b', { routes, net });
    try {
      const { bobAtAlice } = await befriend(alice, bob, relay.url);
      const onset = Date.now();
      censor.set([freeze({ destinations: [`127.0.0.1:${relay.port}`, `127.0.0.1:${bridge.port}`] })]);
      const expected: string[] = [];
      for (let i = 0; i < 6; i++) {
        const t = `big ${i} ${'x'.repeat(6000)}`;
        expected.push(t);
        await alice.client.send(bobAtAlice, t);
      }
      await waitForMessages(bob, expected.length, 90_000, () => censor.explain());
      console.log(`# freeze: onset -> 6 x 6 KB delivered in ${Date.now() - onset} ms; bob via ${bob.racer.status()?.route}`);
      assertExactlyOnce(bob, expected, () => censor.explain());
      assert.match(bob.racer.status()?.route ?? '', /^tunnel /, censor.explain());
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });

  it('the tunnel alone under freeze + connection-rate policing (10 new connections per minute)', async () => {
    const censor = new Censor();
    const routes = routesFromBridgeLink(bridge.link).slice(1);
    const alice = await labClient('rate-a', { routes, includeDirect: false, net: { dialer: censor.dialerFor('127.0.0.2'), resolver: censor.resolver } });
    const bob = await labClient('rate-b', { routes, includeDirect: false, net: { dialer: censor.dialerFor('127.0.0.3'), resolver: censor.resolver } });
    try {
      const { bobAtAlice } = await befriend(alice, bob, relay.url);
      const onset = Date.now();
      censor.set([freeze({ destinations: [`127.0.0.1:${bridge.port}`] }), connectionRate({ destinations: [`127.0.0.1:${bridge.port}`] })]);
      const expected: string[] = [];
      for (let i = 0; i < 8; i++) {
        const t = `policed ${i} ${'y'.repeat(500)}`;
        expected.push(t);
        await alice.client.send(bobAtAlice, t);
      }
      await waitForMessages(bob, expected.length, 60_000, () => censor.explain());
      console.log(`# freeze+rate: 8 messages delivered in ${Date.now() - onset} ms`);
      assertExactlyOnce(bob, expected, () => censor.explain());
      const dropped = censor.log.filter((e) => e.rule === 'freeze' || e.rule === 'connectionRate');
      assert.equal(dropped.length, 0, censor.explain());
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });

  it("every route blocked: 'no-route' and queued; once a route appears everything is delivered once", async () => {
    const censor = new Censor();
    const net = { dialer: censor.dialer, resolver: censor.resolver };
    const routes = routesFromBridgeLink(bridge.link);
    const statuses: RacerStatus[] = [];
    const alice = await labClient('none-a', { routes, net, onStatus: (s) => statuses.push(s) });
    const bob = await labClient('none-b', { routes, net });
    try {
      const { bobAtAlice } = await befriend(alice, bob, relay.url);
      censor.set([ipBlock({ destinations: [`127.0.0.1:${relay.port}`, `127.0.0.1:${bridge.port}`], action: 'reject' })]);
      const expected = ['queued 0', 'queued 1', 'queued 2'];
      for (const t of expected) await alice.client.send(bobAtAlice, t);
      const noRouteSeen = Date.now();
      while (alice.racer.status()?.phase !== 'no-route') {
        if (Date.now() - noRouteSeen > 60_000) assert.fail(`never said no-route: ${JSON.stringify(statuses)}\n${censor.explain()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      console.log(`# all blocked: 'no-route' after ${Date.now() - noRouteSeen} ms with ${alice.client.outboxSize()} queued`);
      assert.ok(alice.client.outboxSize() >= 1);
      const unblocked = Date.now();
      censor.set([]);
      await waitForMessages(bob, expected.length, 60_000, () => censor.explain());
      console.log(`# route back: queue delivered ${Date.now() - unblocked} ms after unblocking`);
      assertExactlyOnce(bob, expected, () => censor.explain());
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });
});
