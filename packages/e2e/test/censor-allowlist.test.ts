/**
 * Lab behaviour 6: the network switches to an IP+SNI allowlist mid-conversation; the bridge is on it
 * (an allowlisted host with its innocuous SNI), the relay is not.
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: allowlist mode', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('only the bridge (IP + innocuous SNI) is allowlisted: the chat moves there', async () => {
    await checkScenario(world, 'allowlist');
  });
});
