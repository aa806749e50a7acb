/**
 * Every route blocked (the relay and the bridge rejected) mid-conversation: the racer says
 * 'no-route', the client keeps what is written in its outbox, and once a route appears again
 * (unblock) everything is delivered exactly once, in order.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Censor, ipBlock, staticResolver } from '@pigeon/lab';
import { ALICE_IP, BOB_IP, NAME_TABLE, befriend, describeAttempts, kindOf, openUser, startWorld, waitForArrivals } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';

describe('censor: every route blocked', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it("the client reports 'no route', queues, and delivers everything once a route appears", async () => {
    const censor = new Censor({ upstreamResolver: staticResolver(NAME_TABLE) });
    const alice = await openUser('alice', world, censor, { clientIp: ALICE_IP });
    const bob = await openUser('bob', world, censor, { clientIp: BOB_IP });
    const started = Date.now();
    const explain = () => [censor.explain(), describeAttempts(alice, started), describeAttempts(bob, started)].join('\n');
    try {
      const bobAtAlice = await befriend(alice, bob, world.relayUrl);
      const expected = ['hello 0', 'hello 1'];
      for (const t of expected) await alice.client.send(bobAtAlice, t);
      await waitForArrivals(bob, 2, 30_000, explain);

      const onset = Date.now();
      censor.set([ipBlock({ destinations: [world.relayTarget, world.bridgeTarget], action: 'reject' })]);
      const noRoute = new Promise<number>((resolve) => {
        const check = () => {
          if (alice.racer.status(world.relayUrl)?.phase === 'no-route') {
            off();
            resolve(Date.now());
          }
        };
        const off = alice.racer.onStatus(check);
        check();
      });
      for (let i = 0; i < 4; i++) {
        const t = `queued ${i}`;
        expected.push(t);
        await alice.client.send(bobAtAlice, t);
      }
      const saidNoRoute = await Promise.race([noRoute, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000).unref())]);
      assert.ok(saidNoRoute !== undefined, `never said no-route: ${JSON.stringify(alice.statuses)}\n${explain()}`);
      const queued = alice.client.outboxSize();
      console.log(`# all routes blocked: 'no-route' after ${saidNoRoute - onset} ms, ${queued} queued`);
      assert.ok(queued >= 1, 'nothing queued');
      assert.equal(bob.arrivals.length, 2, 'something got through a blocked network');

      const unblocked = Date.now();
      censor.set([]);
      await waitForArrivals(bob, expected.length, 60_000, explain);
      console.log(`# route back: the queue was delivered ${Date.now() - unblocked} ms after unblocking via ${alice.racer.status(world.relayUrl)?.route}`);
      const texts = bob.arrivals.map((a) => a.text);
      assert.deepEqual(texts, expected, explain());
      assert.ok(kindOf(alice.racer.status(world.relayUrl)?.route) !== undefined);
    } finally {
      await alice.close();
      await bob.close();
      await censor.close();
    }
  });
});
