/**
 * Lab behaviour 7, fully-encrypted-traffic detection (Wu et al., every exemption rule, probability 1,
 * 180 s residual) switched on mid-conversation, then the apps restart so every connection is new.
 * Pigeon's first packets are TLS ClientHellos, never random-looking bytes: nothing may be blocked,
 * on any route. Each route is also opened once more through the censor to prove it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBackend } from '@pigeon/crypto';
import { openRoute, routesFromBridgeLink } from '@pigeon/transport';
import type { Route } from '@pigeon/transport';
import { directRoute, startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: fully-encrypted-traffic detection', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('no route looks fully encrypted: the chat goes on and the censor blocks nothing', async () => {
    await checkScenario(world, 'fullyEncrypted', {
      inspect: async ({ censor }) => {
        const routes: Route[] = [directRoute(world), ...routesFromBridgeLink(world.bridgeLink)];
        for (const route of routes) {
          // The relay speaks first (its challenge): receiving it proves the whole path works.
          const outcome = await new Promise<string>((resolve) => {
            const timer = setTimeout(() => resolve('no challenge within 20 s'), 20_000);
            const socket = openRoute(
              route,
              {
                onOpen: () => undefined,
                onMessage: () => {
                  clearTimeout(timer);
                  resolve('challenge');
                  socket.close(1000, 'done');
                },
                onClose: (code, reason) => {
                  clearTimeout(timer);
                  resolve(`closed ${code} ${reason}`);
                },
              },
              { net: { dialer: censor.dialerFor('127.0.0.9'), resolver: censor.resolver }, crypto: defaultBackend() },
            );
          });
          console.log(`# ${route.kind} route under FET detection: ${outcome}`);
          assert.equal(outcome, 'challenge', `${route.kind}: ${outcome}\n${censor.explain()}`);
        }
        assert.equal(censor.log.filter((e) => e.rule === 'fullyEncryptedDetection').length, 0, censor.explain());
      },
    });
  });
});
