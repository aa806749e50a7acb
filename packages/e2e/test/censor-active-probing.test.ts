/**
 * Lab behaviour 8, active probing. (1) Probing of the relay's and the bridge's public ports switched
 * on mid-conversation: the prober replays, alters, sends random bytes, asks for the page and for a
 * WebSocket upgrade; both must look like ordinary websites, so nothing is blocked and the chat goes
 * on. (2) The prober's verdict on each public port, probe by probe: only the website, ever.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { Censor, activeProbing, staticResolver } from '@pigeon/lab';
import { BRIDGE_SNI, NAME_TABLE, RELAY_NAME, startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: active probing', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('relay and bridge probed mid-conversation: both pass as websites, the chat goes on', async () => {
    await checkScenario(world, 'activeProbing', {
      inspect: async ({ censor }) => {
        await censor.settled();
        const probes = censor.log.filter((e) => e.action === 'probe');
        assert.ok(probes.length > 0, `the prober never probed\n${censor.explain()}`);
      },
    });
  });

  it("the bridge's and the relay's public ports show the prober only a website", async () => {
    const rule = activeProbing({ targets: [world.relayTarget, world.bridgeTarget] });
    const censor = new Censor({ upstreamResolver: staticResolver(NAME_TABLE), rules: [rule] });
    try {
      // What a client sends first: a browser-like ClientHello with the relay's name / the bridge's
      // innocuous name. That first packet is what the prober replays and alters.
      for (const [port, servername] of [
        [world.relayPort, RELAY_NAME],
        [world.bridgePort, BRIDGE_SNI],
      ] as const) {
        const raw = await censor.dialer.dial({ host: '127.0.0.1', port });
        await new Promise<void>((resolve) => {
          const s = tlsConnect({ socket: raw, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
          s.once('secureConnect', () => {
            s.end();
            resolve();
          });
          s.once('error', () => resolve());
        });
      }
      await censor.waitFor((e) => e.action === 'probe' && e.server === world.bridgeTarget);
      await censor.waitFor((e) => e.action === 'probe' && e.server === world.relayTarget);
      await censor.settled();
      for (const server of [world.relayTarget, world.bridgeTarget]) {
        const verdict = rule.verdicts.get(server);
        assert.ok(verdict !== undefined, `no verdict for ${server}\n${censor.explain()}`);
        for (const r of verdict.results) console.log(`# ${server === world.bridgeTarget ? 'bridge' : 'relay'} ${r.kind}: ${r.outcome} -> ${r.class} (${r.summary})`);
        assert.equal(verdict.blocked, false, `${server} was blocked\n${censor.explain()}`);
        assert.deepEqual(verdict.results.filter((r) => r.class === 'suspicious'), [], censor.explain());
        // The page itself must have been seen: the prober's plain GET got an HTTP answer.
        assert.ok(verdict.results.some((r) => r.kind === 'http-get' && r.class === 'ordinary'), censor.explain());
      }
    } finally {
      await censor.close();
    }
  });
});
