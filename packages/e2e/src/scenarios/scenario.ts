/**
 * One censor scenario, run the same way by the tests (test/censor-*.test.ts) and by the benchmark
 * (bench/src/lab): a fresh censor and two fresh users in a running World; they chat through the
 * censor with nothing blocked, the censor's rules are switched on mid-conversation ("onset"),
 * they keep chatting, and we record what the application saw.
 *
 * Recovery = onset -> the first message sent after the onset reaching the receiving application.
 */
import { Censor, staticResolver } from '@pigeon/lab';
import type { Rule } from '@pigeon/lab';
import type { RouteKind } from '@pigeon/transport';
import { befriend, currentRoute, describeAttempts, kindOf, openUser, waitForArrivals } from './chat.js';
import type { ChatUser } from './chat.js';
import { NAME_TABLE } from './world.js';
import type { World } from './world.js';

export interface MessagePlan {
  readonly count: number;
  /** Characters per message (a short label plus padding). */
  readonly size: number;
}

export interface ScenarioSpec {
  /** Short name, also the bench row: 'ipBlock-drop', 'sniFilter-reset', ... */
  readonly name: string;
  /** Lab behaviour number (issue 3, "The lab") and what the censor does. */
  readonly behaviour: string;
  /** The rules switched on at onset (fresh objects each call: rules hold state). */
  rules(world: World): Rule[];
  /**
   * true: the censor must have acted on Pigeon's traffic (dropped, reset, hung, delayed, lied) or the
   * scenario proved nothing; false: Pigeon must give it nothing to act on (no block at all).
   */
  readonly censorBites: boolean;
  /** Route kinds that work under this censor; the receiver must end on one of them. */
  readonly works: readonly RouteKind[];
  /** The same for the sender (default: `works`). */
  readonly senderWorks?: readonly RouteKind[];
  /**
   * Right after the onset, both apps restart (close, open the same profile, connect), so that a
   * censor acting only on new lookups or connections (DNS, connect-time policing) meets them. The
   * racer starts from the route the client store remembers (direct).
   */
  readonly restartAtOnset?: boolean;
  readonly before?: MessagePlan;
  readonly after?: MessagePlan;
}

export interface ScenarioOptions {
  /** After recovery, also time this burst alice -> bob through the route in use. */
  readonly burst?: MessagePlan;
  /**
   * Wait this long after the pre-onset chat before switching the censor on. The bench draws it at
   * random within one keepalive interval, so the onset falls anywhere in the keepalive cycle (a
   * test's onset otherwise lands at the same phase every time).
   */
  readonly onsetDelayMs?: number;
  /** Fail-safe for the post-onset deliveries. */
  readonly deliveryTimeoutMs?: number;
  /** Extra checks with the censor still on (e.g. open every route once). */
  readonly inspect?: (ctx: ScenarioContext) => Promise<void>;
  /** Print progress lines (tests print through node:test's stdout). */
  readonly log?: (line: string) => void;
}

export interface ScenarioContext {
  readonly world: World;
  readonly censor: Censor;
  readonly alice: ChatUser;
  readonly bob: ChatUser;
}

export interface ScenarioResult {
  readonly name: string;
  /** Every post-onset message delivered exactly once, in order, and both ended on a working route. */
  readonly found: boolean;
  readonly recoveryMs: number | undefined;
  readonly allDeliveredMs: number | undefined;
  /** Routes in use just before the onset (must be direct: the scenario starts from a working chat). */
  readonly routesAtOnset: { readonly alice: string | undefined; readonly bob: string | undefined };
  readonly senderRoute: string | undefined;
  readonly receiverRoute: string | undefined;
  readonly expected: readonly string[];
  /** Texts of this scenario's messages as bob's application saw them, in event order. */
  readonly received: readonly string[];
  /** Onset -> the first racer event showing a broken route (stalled / lost / failed), either user. */
  readonly detectedMs: number | undefined;
  /** Onset -> the first race won after the onset, either user. */
  readonly switchedMs: number | undefined;
  readonly duplicates: number;
  readonly inOrder: boolean;
  readonly burstMs?: number;
  readonly burstBytes?: number;
  /** Why found is false, or '' */
  readonly problem: string;
  /** Censor log and racer attempts since onset (for a failing assertion's message). */
  readonly explain: string;
  readonly censorLog: Censor['log'];
}

export const ALICE_IP = '127.0.0.2';
export const BOB_IP = '127.0.0.3';
const DEFAULT_PLAN: MessagePlan = { count: 4, size: 40 };

function makeText(label: string, i: number, size: number): string {
  const head = `${label} ${i} `;
  return head + '.'.repeat(Math.max(0, size - head.length));
}

export async function runScenario(world: World, spec: ScenarioSpec, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const log = options.log ?? (() => undefined);
  const censor = new Censor({ upstreamResolver: staticResolver(NAME_TABLE) });
  let alice: ChatUser | undefined;
  let bob: ChatUser | undefined;
  try {
    alice = await openUser('alice', world, censor, { clientIp: ALICE_IP });
    bob = await openUser('bob', world, censor, { clientIp: BOB_IP });
    const a = alice;
    const b = bob;
    const bobAtAlice = await befriend(a, b, world.relayUrl);
    const before = spec.before ?? { count: 3, size: 40 };
    const after = spec.after ?? DEFAULT_PLAN;
    const tag = `${spec.name}-${Date.now().toString(36)}`;
    const expected: string[] = [];
    for (let i = 0; i < before.count; i++) {
      const t = makeText(`${tag} before`, i, before.size);
      expected.push(t);
      await a.client.send(bobAtAlice, t);
    }
    let onset = Date.now();
    const explain = () =>
      [censor.explain(), describeAttempts(a, onset), describeAttempts(b, onset)].filter((s) => s !== '').join('\n');
    await waitForArrivals(b, before.count, 30_000, explain);

    if (options.onsetDelayMs !== undefined && options.onsetDelayMs > 0) await new Promise((r) => setTimeout(r, options.onsetDelayMs));
    // Onset: the censor switches on mid-conversation. Before it, both chat directly.
    const routesAtOnset = { alice: currentRoute(a), bob: currentRoute(b) };
    const rules = spec.rules(world);
    onset = Date.now();
    censor.set(rules);
    if (spec.restartAtOnset === true) await Promise.all([a.restart(), b.restart()]);
    const firstAfter = expected.length;
    for (let i = 0; i < after.count; i++) {
      const t = makeText(`${tag} after`, i, after.size);
      expected.push(t);
      await a.client.send(bobAtAlice, t);
    }
    let problem = '';
    try {
      await waitForArrivals(b, expected.length, options.deliveryTimeoutMs ?? 90_000, explain);
    } catch (err) {
      problem = (err as Error).message.split('\n')[0] ?? 'not delivered';
    }
    const mine = b.arrivals.filter((x) => x.text.startsWith(tag));
    const received = mine.map((x) => x.text);
    const firstPost = mine.find((x) => expected.indexOf(x.text) >= firstAfter);
    const lastPost = mine.filter((x) => expected.indexOf(x.text) >= firstAfter).at(-1);
    const recoveryMs = firstPost !== undefined ? firstPost.at - onset : undefined;
    const allDelivered = new Set(received).size === expected.length && expected.every((t) => received.includes(t));
    const allDeliveredMs = allDelivered && lastPost !== undefined ? lastPost.at - onset : undefined;
    const duplicates = received.length - new Set(received).size;
    const inOrder = received.length === expected.length && received.every((t, i) => t === expected[i]);
    const events = [...a.attempts, ...b.attempts].filter((e) => e.at >= onset).sort((x, y) => x.at - y.at);
    const detected = events.find((e) => e.outcome === 'stalled' || e.outcome === 'lost' || e.outcome === 'failed' || e.outcome === 'timeout');
    const switched = events.find((e) => e.outcome === 'won');
    const senderRoute = currentRoute(a);
    const receiverRoute = currentRoute(b);
    const rk = kindOf(receiverRoute);
    const sk = kindOf(senderRoute);
    if (kindOf(routesAtOnset.alice) !== 'direct' || kindOf(routesAtOnset.bob) !== 'direct') {
      problem = `not chatting directly before the onset (alice ${routesAtOnset.alice ?? '-'}, bob ${routesAtOnset.bob ?? '-'})`;
    }
    const acted = censor.log.filter((e) => e.action !== 'probe');
    if (problem === '' && spec.censorBites && acted.length === 0) problem = 'the censor never acted: the scenario proved nothing';
    if (problem === '' && !spec.censorBites && acted.length > 0) problem = `the censor blocked: ${acted[0]!.rule} ${acted[0]!.action}: ${acted[0]!.reason}`;
    if (problem === '' && !allDelivered) problem = `delivered ${new Set(received).size}/${expected.length}`;
    if (problem === '' && duplicates > 0) problem = `${duplicates} duplicate(s)`;
    if (problem === '' && !inOrder) problem = 'out of order';
    if (problem === '' && (rk === undefined || !spec.works.includes(rk))) problem = `receiver on ${receiverRoute ?? 'no route'}`;
    if (problem === '' && (sk === undefined || !(spec.senderWorks ?? spec.works).includes(sk))) problem = `sender on ${senderRoute ?? 'no route'}`;
    log(
      `${spec.name}: recovery ${recoveryMs ?? '-'} ms, all ${expected.length - firstAfter} post-onset delivered after ${allDeliveredMs ?? '-'} ms; ` +
        `alice via ${senderRoute ?? '-'}, bob via ${receiverRoute ?? '-'}${problem !== '' ? `; PROBLEM: ${problem}` : ''}`,
    );

    let burstMs: number | undefined;
    let burstBytes: number | undefined;
    if (options.burst !== undefined && problem === '') {
      const burst = options.burst;
      const start = Date.now();
      const target = b.arrivals.length + burst.count;
      for (let i = 0; i < burst.count; i++) await a.client.send(bobAtAlice, makeText(`${tag} burst`, i, burst.size));
      try {
        await waitForArrivals(b, target, 120_000, explain);
        burstMs = Date.now() - start;
        burstBytes = burst.count * burst.size;
      } catch {
        burstMs = undefined;
      }
    }
    if (options.inspect !== undefined) await options.inspect({ world, censor, alice: a, bob: b });
    return {
      name: spec.name,
      found: problem === '',
      recoveryMs,
      allDeliveredMs,
      routesAtOnset,
      detectedMs: detected !== undefined ? detected.at - onset : undefined,
      switchedMs: switched !== undefined ? switched.at - onset : undefined,
      senderRoute,
      receiverRoute,
      expected,
      received,
      duplicates,
      inOrder,
      ...(burstMs !== undefined ? { burstMs, burstBytes } : {}),
      problem,
      explain: explain(),
      censorLog: [...censor.log],
    };
  } finally {
    await alice?.close().catch(() => undefined);
    await bob?.close().catch(() => undefined);
    await censor.close();
  }
}
