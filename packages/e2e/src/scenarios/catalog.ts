/**
 * The censor scenarios of issue 3 ("The lab", behaviours 1-9), each a rule set switched on
 * mid-conversation and the route kinds that must carry the chat afterwards. Parameters are the
 * lab's published defaults unless a comment says why not. Residual blocks use the real clock and
 * outlive the scenario harmlessly: every scenario has a fresh censor.
 */
import {
  activeProbing,
  allowlist,
  connectionRate,
  dnsPoison,
  freeze,
  fullyEncryptedDetection,
  ipBlock,
  sniFilter,
  throttle,
} from '@pigeon/lab';
import type { ScenarioSpec } from './scenario.js';
import { BRIDGE_SNI, RELAY_NAME } from './world.js';

const BRIDGED = ['bridge', 'tunnel'] as const;
const ANY = ['direct', 'bridge', 'tunnel'] as const;

export const SCENARIOS: readonly ScenarioSpec[] = [
  {
    name: 'ipBlock-drop',
    censorBites: true,
    behaviour: "1. the relay's address blocked: packets dropped (connects hang, open connections go silent)",
    rules: (w) => [ipBlock({ destinations: [w.relayTarget], action: 'drop' })],
    works: BRIDGED,
  },
  {
    name: 'ipBlock-reject',
    censorBites: true,
    behaviour: "1. the relay's address blocked: RST (connects refused, open connections reset)",
    rules: (w) => [ipBlock({ destinations: [w.relayTarget], action: 'reject' })],
    works: BRIDGED,
  },
  {
    name: 'dnsPoison',
    censorBites: true,
    behaviour: "2. the relay's name poisoned (bogus TEST-NET address, connects hang), then the apps restart",
    rules: () => [dnsPoison({ names: [RELAY_NAME] })],
    restartAtOnset: true,
    works: BRIDGED,
  },
  {
    name: 'sniFilter-reset',
    censorBites: true,
    behaviour: "3. SNI relay.example reset; the client/relay pair then blocked 60 s (residual)",
    rules: () => [sniFilter({ names: [RELAY_NAME], mode: 'reset' })],
    works: BRIDGED,
  },
  {
    name: 'sniFilter-pass-then-drop',
    censorBites: true,
    behaviour: '3. SNI relay.example: 6 packets pass, then dropped both ways; residual 60 s',
    rules: () => [sniFilter({ names: [RELAY_NAME], mode: 'pass-then-drop' })],
    works: BRIDGED,
  },
  {
    name: 'throttle',
    censorBites: true,
    behaviour: '4. SNI relay.example throttled to 130 kbps (token bucket, delays)',
    rules: () => [throttle({ names: [RELAY_NAME] })],
    // 48 KB after the onset: past the 14.6 KB burst, so the throttle really delays.
    after: { count: 6, size: 8_000 },
    works: ANY,
  },
  {
    name: 'freeze',
    censorBites: true,
    behaviour: '5. relay and bridge: server->client silenced after 16 KB on one connection',
    rules: (w) => [freeze({ destinations: [w.relayTarget, w.bridgeTarget] })],
    // 3 x 6 KB before the onset: bob's relay connection is already past the threshold, so the
    // freeze bites at once; 8 x 6 KB after it also freezes the bridge's WebSocket.
    before: { count: 3, size: 6_000 },
    after: { count: 8, size: 6_000 },
    works: ['tunnel'],
    senderWorks: ANY,
  },
  {
    name: 'allowlist',
    censorBites: true,
    behaviour: '6. allowlist by IP+SNI: only the bridge (SNI static.example) passes; other ClientHellos dropped',
    rules: (w) => [allowlist({ allow: [{ destination: w.bridgeTarget, names: [BRIDGE_SNI] }] })],
    works: BRIDGED,
  },
  {
    name: 'fullyEncrypted',
    censorBites: false,
    behaviour: '7. fully-encrypted first packets dropped (Ex1-Ex5, probability 1, residual 180 s), then the apps restart',
    rules: () => [fullyEncryptedDetection()],
    restartAtOnset: true,
    // Every Pigeon route opens with a TLS ClientHello (exemption Ex5): nothing is blocked.
    works: ANY,
  },
  {
    name: 'activeProbing',
    censorBites: false,
    behaviour: '8. relay and bridge actively probed (replay, altered replay, random, GET, upgrade); blocked unless a website',
    rules: (w) => [activeProbing({ targets: [w.relayTarget, w.bridgeTarget] })],
    works: ANY,
  },
  {
    name: 'connectionRate',
    censorBites: true,
    behaviour: '9. the relay policed at 1 new connection per minute per client (open ones dropped in cooldown), then the apps restart',
    // Strict on purpose: after the restart each client dials its two relay connections (auth and
    // anonymous), the second starts a 60 s cooldown. The bridge is policed at the default 10 per minute.
    rules: (w) => [
      connectionRate({ name: 'rate-relay', maxConnections: 1, dropExisting: true, destinations: [w.relayTarget] }),
      connectionRate({ name: 'rate-bridge', dropExisting: true, destinations: [w.bridgeTarget] }),
    ],
    restartAtOnset: true,
    works: BRIDGED,
  },
];

export function scenarioNamed(name: string): ScenarioSpec {
  const s = SCENARIOS.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no scenario ${name}`);
  return s;
}
