/**
 * Lab behaviour 4: the relay's SNI is throttled to 130 kbps mid-conversation. Short messages still
 * get through; the route the chat ends on is printed (the throughput is the benchmark's business).
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: throttling by SNI', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('the chat keeps going at 130 kbps (on whichever route the racer keeps)', async () => {
    await checkScenario(world, 'throttle');
  });
});
