/**
 * Censor scenarios (issue 3): a relay behind a TLS front, a bridge process, the lab censor on the
 * clients' wire, and two SDK clients racing routes. Used by test/censor-*.test.ts and by
 * `npm run bench:lab` (bench/src/lab). See CONTEXT.md "Censor scenarios".
 */
export { startWorld, RELAY_NAME, BRIDGE_SNI, LOOPBACK, NAME_TABLE } from './world.js';
export type { World } from './world.js';
export { openUser, befriend, waitForArrivals, kindOf, currentRoute, describeAttempts, directRoute } from './chat.js';
export type { ChatUser, Arrival, UserOptions } from './chat.js';
export { runScenario, ALICE_IP, BOB_IP } from './scenario.js';
export type { ScenarioSpec, ScenarioOptions, ScenarioResult, ScenarioContext, MessagePlan } from './scenario.js';
export { SCENARIOS, scenarioNamed } from './catalog.js';
