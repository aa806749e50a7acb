/**
 * Lab behaviour 9: connection-rate policing switched on, then the apps restart and redial.
 * The relay is policed strictly (the second connection starts the cooldown, open connections dropped);
 * the chat must continue through the bridge, which the racer does not flood (default N = 10).
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: connection-rate policing', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('a policed relay (1 new connection per minute) after a restart: the chat moves to the bridge', async () => {
    await checkScenario(world, 'connectionRate');
  });
});
