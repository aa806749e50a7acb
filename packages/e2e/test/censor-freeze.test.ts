/**
 * Lab behaviour 5: server->client packets are dropped after 16 KB on one connection to the relay
 * or the bridge, switched on when the receiver's relay connection is already past 16 KB. Only the
 * tunnel (8 KB per connection) keeps the downstream flowing.
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: the 16 KB freeze', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('relay and bridge freeze after 16 KB: the receiver ends on the tunnel, nothing lost or doubled', async () => {
    await checkScenario(world, 'freeze');
  });
});
