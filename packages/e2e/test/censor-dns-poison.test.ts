/**
 * Lab behaviour 2: the relay's name is poisoned mid-conversation; the apps restart and look it up
 * again. The bridge link carries an address, not a name, so the bridge takes over.
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: DNS poisoning of the relay', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it("the relay's name resolves to a bogus address after a restart: the bridge link's address carries the chat", async () => {
    await checkScenario(world, 'dnsPoison');
  });
});
