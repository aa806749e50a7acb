/**
 * Active probing (CENSORS.md item 13): after a passive trigger, the censor itself connects to the
 * server, replays the client's first packet, replays it with bytes altered, sends random probes,
 * and asks for the website (plain GET and a WebSocket upgrade). If any answer is not what an
 * ordinary website gives (classification in ../probe.ts, every probe logged), the server's
 * address is blocked. The GFW's first probe came at least 0.28 s after the trigger (Wu et al.,
 * USENIX Security 2023; Alice et al., IMC 2020, for probe types).
 *
 * The default trigger is the fully-encrypted heuristic (no Ex1-Ex5 exemption); `targets` adds
 * destinations that are always probed, and `suspicious` replaces the predicate.
 */
import { destinationMatcher, formatEndpoint } from '../address.js';
import type { DestinationPattern } from '../address.js';
import { LabError } from '../errors.js';
import { classifyFirstPacket } from '../fully-encrypted.js';
import { buildProbes, runProbe, DEFAULT_PROBE_TIMEOUT_MS } from '../probe.js';
import type { ProbeKind, ProbeResult, ProbeTarget } from '../probe.js';
import type { CensorContext, FlowInfo, Rule } from '../types.js';
import type { TimerHandle } from '../clock.js';
import { checkDuration, secondsText } from './residual.js';

/** Wu et al.: the earliest probe followed the trigger by 0.28 s. */
export const DEFAULT_PROBE_DELAY_MS = 280;
export const DEFAULT_PROBES: readonly ProbeKind[] = ['replay', 'altered-replay', 'random', 'random', 'http-get', 'websocket-upgrade'];
export const DEFAULT_RANDOM_PROBE_LENGTHS: readonly number[] = [8, 221];

export interface ProbingVerdict {
  readonly server: string;
  readonly blocked: boolean;
  readonly results: readonly ProbeResult[];
}

export interface ActiveProbingOptions {
  /** Decides whether a flow triggers probing; receives the flow after its first client packet. */
  readonly suspicious?: (flow: FlowInfo) => boolean;
  /** Destinations probed whenever they are contacted, in addition to `suspicious`. */
  readonly targets?: readonly DestinationPattern[];
  readonly probes?: readonly ProbeKind[];
  readonly randomLengths?: readonly number[];
  readonly delayMs?: number;
  readonly probeTimeoutMs?: number;
  /** How a blocked server is blocked: dropped SYN (hang) or RST (reject). */
  readonly blockAction?: 'hang' | 'reject';
  /** How long a blocked address stays blocked (Infinity: for the censor's lifetime). */
  readonly blockMs?: number;
  readonly name?: string;
}

export interface ActiveProbingRule extends Rule {
  /** Verdicts per server so far. */
  readonly verdicts: ReadonlyMap<string, ProbingVerdict>;
}

export function activeProbing(options: ActiveProbingOptions = {}): ActiveProbingRule {
  const name = options.name ?? 'activeProbing';
  const suspicious = options.suspicious ?? ((flow: FlowInfo) => flow.firstClientPacket !== undefined && !classifyFirstPacket(flow.firstClientPacket).exempt);
  const isTarget = options.targets === undefined ? () => false : destinationMatcher(options.targets);
  const kinds = options.probes ?? DEFAULT_PROBES;
  if (kinds.length === 0) throw new LabError('BAD_OPTION', 'probes must not be empty');
  const randomLengths = options.randomLengths ?? DEFAULT_RANDOM_PROBE_LENGTHS;
  for (const l of randomLengths) if (!Number.isInteger(l) || l < 1 || l > 65_535) throw new LabError('BAD_OPTION', 'random probe lengths must be 1..65535');
  const delayMs = checkDuration('delayMs', options.delayMs ?? DEFAULT_PROBE_DELAY_MS);
  const probeTimeoutMs = checkDuration('probeTimeoutMs', options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  const blockAction = options.blockAction ?? 'hang';
  const blockMs = checkDuration('blockMs', options.blockMs ?? Number.POSITIVE_INFINITY, true);
  const verdicts = new Map<string, ProbingVerdict>();
  const blockedUntil = new Map<string, number>();
  const probing = new Set<string>();
  const timers = new Set<{ handle: TimerHandle; ctx: CensorContext; finish: () => void }>();
  const judged = new WeakSet<FlowInfo>();
  // dispose() cancels the probes in flight; the rule stays usable if installed again.
  let generation = 0;

  const blockedLeft = (ctx: CensorContext, server: string): number => {
    const until = blockedUntil.get(server);
    if (until === undefined) return 0;
    const left = until - ctx.clock.now();
    if (left <= 0) {
      blockedUntil.delete(server);
      return 0;
    }
    return left;
  };

  const probe = async (ctx: CensorContext, flow: FlowInfo, first: Uint8Array, server: string): Promise<void> => {
    const mine = generation;
    const disposed = () => generation !== mine;
    const target: ProbeTarget = { server: flow.server, tls: flow.tls === 'client-hello', sni: flow.sni };
    const results: ProbeResult[] = [];
    for (const p of buildProbes(kinds, first, target, () => ctx.random(), randomLengths)) {
      if (disposed()) return;
      const result = await runProbe(ctx.upstream, ctx.clock, target, p, probeTimeoutMs, disposed);
      if (disposed()) return;
      results.push(result);
      ctx.log({ rule: name, action: 'probe', server, reason: `${result.kind} probe (${result.sentBytes} B): ${result.outcome} -> ${result.class}; answer ${result.summary}` });
    }
    const bad = results.filter((r) => r.class === 'suspicious');
    verdicts.set(server, { server, blocked: bad.length > 0, results });
    probing.delete(server);
    if (bad.length === 0) return;
    blockedUntil.set(server, ctx.clock.now() + blockMs);
    ctx.log({
      rule: name,
      action: 'block',
      server,
      reason: `not an ordinary website: ${bad.map((r) => `${r.kind} got ${r.outcome}`).join(', ')}; blocked for ${secondsText(blockMs)}`,
    });
    ctx.review();
  };

  const schedule = (ctx: CensorContext, flow: FlowInfo, first: Uint8Array) => {
    const server = formatEndpoint(flow.server);
    if (probing.has(server) || verdicts.has(server)) return;
    probing.add(server);
    let finish: () => void = () => undefined;
    ctx.track(new Promise<void>((resolve) => (finish = resolve)));
    const entry = {
      ctx,
      finish: () => finish(),
      handle: ctx.clock.setTimeout(() => {
        timers.delete(entry);
        void probe(ctx, flow, first, server).finally(() => {
          probing.delete(server);
          finish();
        });
      }, delayMs),
    };
    timers.add(entry);
  };

  return {
    name,
    verdicts,
    connect(ctx, attempt) {
      const server = formatEndpoint(attempt.server);
      const left = blockedLeft(ctx, server);
      if (left === 0) return undefined;
      const reason = `${server} failed active probing (${secondsText(left)} left)`;
      return blockAction === 'hang' ? { action: 'hang', reason } : { action: 'reject', reason };
    },
    packet(ctx, flow, packet) {
      if (packet.direction !== 'toServer' || judged.has(flow)) return undefined;
      judged.add(flow);
      if (isTarget(flow.server) || suspicious(flow)) schedule(ctx, flow, flow.firstClientPacket ?? packet.bytes);
      return undefined;
    },
    review(ctx, flow) {
      const server = formatEndpoint(flow.server);
      if (blockedLeft(ctx, server) > 0) return { action: 'drop', direction: 'both', reason: `${server} failed active probing` };
      if (!judged.has(flow) && flow.firstClientPacket !== undefined) {
        judged.add(flow);
        if (isTarget(flow.server) || suspicious(flow)) schedule(ctx, flow, flow.firstClientPacket);
      }
      return undefined;
    },
    dispose() {
      generation++;
      for (const t of timers) {
        t.ctx.clock.clearTimeout(t.handle);
        t.finish();
      }
      timers.clear();
      probing.clear();
    },
  };
}
