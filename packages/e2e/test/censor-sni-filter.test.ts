/**
 * Lab behaviour 3, SNI filtering of relay.example switched on mid-conversation, in both TSPU modes:
 * reset at once, and pass-then-drop (6 packets, then silence both ways), each followed by the 60 s
 * residual block of the client/relay pair. The bridge's innocuous SNI passes.
 */
import { after, before, describe, it } from 'node:test';
import { startWorld } from '../src/scenarios/index.js';
import type { World } from '../src/scenarios/index.js';
import { checkScenario } from '../src/scenarios/assertions.js';

describe('censor: SNI filtering of the relay', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.stop();
  });

  it('reset + residual: the chat continues through the bridge', async () => {
    await checkScenario(world, 'sniFilter-reset');
  });

  it('pass-then-drop + residual: the silence is noticed and the chat continues through the bridge', async () => {
    await checkScenario(world, 'sniFilter-pass-then-drop');
  });
});
