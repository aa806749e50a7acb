/**
 * Lab behaviour 1, IP/port blocking switched on mid-conversation: dropped (open connections go
 * silent, found by the keepalive) and rejected (RST). The chat must move to the bridge.
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: IP blocking of the relay', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('drop: the silent relay is noticed and the chat continues through the bridge', async () => {
    await checkScenario(world, 'ipBlock-drop');
  });

  it('reject: the reset is seen at once and the chat continues through the bridge', async () => {
    await checkScenario(world, 'ipBlock-reject');
  });
});
