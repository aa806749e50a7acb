/**
 * What every censor test asserts about a scenario (node:assert, so tests stay one line each):
 * every message exactly once and in order to the application, both users on a route that works
 * under this censor, recovery within RECOVERY_BOUND_MS (generous: the real figure is the
 * benchmark's). The measured times are printed.
 */
import assert from 'node:assert/strict';
import { kindOf } from './chat.js';
import { scenarioNamed } from './catalog.js';
import { runScenario } from './scenario.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';
import type { World } from './world.js';

/** Block onset -> next delivered message, upper bound in tests. */
export const RECOVERY_BOUND_MS = 60_000;

export async function checkScenario(world: World, name: string, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const spec = scenarioNamed(name);
  const r = await runScenario(world, spec, { log: (l) => console.log(`# ${l}`), ...options });
  const why = `${r.problem}\n${r.explain}`;
  assert.equal(kindOf(r.routesAtOnset.alice), 'direct', `alice was not on the direct route before the onset\n${why}`);
  assert.equal(kindOf(r.routesAtOnset.bob), 'direct', `bob was not on the direct route before the onset\n${why}`);
  assert.equal(r.duplicates, 0, `duplicates\n${why}`);
  assert.deepEqual([...r.received].sort(), [...r.expected].sort(), `not exactly the sent messages\n${why}`);
  assert.deepEqual(r.received, r.expected, `out of order\n${why}`);
  const rk = kindOf(r.receiverRoute);
  const sk = kindOf(r.senderRoute);
  assert.ok(rk !== undefined && spec.works.includes(rk), `receiver ended on ${r.receiverRoute}, expected one of ${spec.works.join('/')}\n${why}`);
  const senderWorks = spec.senderWorks ?? spec.works;
  assert.ok(sk !== undefined && senderWorks.includes(sk), `sender ended on ${r.senderRoute}, expected one of ${senderWorks.join('/')}\n${why}`);
  assert.ok(r.recoveryMs !== undefined && r.recoveryMs < RECOVERY_BOUND_MS, `recovery ${r.recoveryMs} ms\n${why}`);
  assert.ok(r.found, why);
  return r;
}
