/**
 * SNI filtering on the TLS ClientHello, as Russia's TSPU does it (Xue et al., IMC 2022, §5;
 * CENSORS.md item 1). The TSPU reads server_name from the ClientHello (reassembled here when split
 * across segments) and, for a listed name, does one of:
 *   'reset'           rewrite the reply to RST: the client sees ECONNRESET at once;
 *   'pass-then-drop'  let the first `passPackets` packets (5-8 observed) through, then drop both ways;
 *   'drop'            drop from the ClientHello on, both ways.
 * Afterwards the same (client IP, server IP:port) pair stays blocked for `residualMs` whatever the
 * SNI (40-420 s reported, the figure marked unconfirmed): new connects to it hang.
 */
import { formatEndpoint, nameMatcher } from '../address.js';
import type { NamePattern } from '../address.js';
import { LabError } from '../errors.js';
import type { CensorContext, FlowInfo, PacketVerdict, Rule } from '../types.js';
import { ResidualTable, checkDuration, secondsText } from './residual.js';

/** Packets let through before the drop in 'pass-then-drop' (TSPU: 5-8). */
export const DEFAULT_SNI_PASS_PACKETS = 6;
/** Residual block of the client/server pair (TSPU: 40-420 s). */
export const DEFAULT_SNI_RESIDUAL_MS = 60_000;

export type SniFilterMode = 'reset' | 'pass-then-drop' | 'drop';

export interface SniFilterOptions {
  readonly names: readonly NamePattern[];
  readonly mode?: SniFilterMode;
  /** Packets (both directions, ClientHello included) before the drop in 'pass-then-drop'. */
  readonly passPackets?: number;
  readonly residualMs?: number;
  readonly name?: string;
}

export function pairKey(clientIp: string, server: { ip: string; port: number }): string {
  return `${clientIp} -> ${formatEndpoint(server)}`;
}

export function sniFilter(options: SniFilterOptions): Rule {
  const matches = nameMatcher(options.names);
  const mode = options.mode ?? 'reset';
  const passPackets = options.passPackets ?? DEFAULT_SNI_PASS_PACKETS;
  if (!Number.isInteger(passPackets) || passPackets < 1 || passPackets > 1000) throw new LabError('BAD_OPTION', 'passPackets must be 1..1000');
  const residualMs = checkDuration('residualMs', options.residualMs ?? DEFAULT_SNI_RESIDUAL_MS);
  const residual = new ResidualTable();
  const judged = new WeakSet<FlowInfo>();
  const condemned = new WeakSet<FlowInfo>();

  const verdictFor = (ctx: CensorContext, flow: FlowInfo, why: string): PacketVerdict => {
    residual.block(ctx.clock, pairKey(flow.client.ip, flow.server), residualMs);
    if (mode === 'reset') return { action: 'reset', reason: why };
    if (mode === 'drop') return { action: 'drop', direction: 'both', reason: why };
    condemned.add(flow);
    return countdown(flow, why);
  };
  const countdown = (flow: FlowInfo, why: string): PacketVerdict =>
    flow.packetsToServer + flow.packetsToClient >= passPackets
      ? { action: 'drop', direction: 'both', reason: `${why}; ${passPackets} packets let through` }
      : { action: 'pass' };

  return {
    name: options.name ?? 'sniFilter',
    connect(ctx, attempt) {
      const left = residual.remaining(ctx.clock, pairKey(attempt.client.ip, attempt.server));
      if (left === 0) return undefined;
      return { action: 'hang', reason: `residual SNI block of this client/server pair (${secondsText(left)} left)` };
    },
    packet(ctx, flow, packet) {
      if (condemned.has(flow)) return countdown(flow, `SNI ${flow.sni ?? '?'} is blocked`);
      if (packet.direction !== 'toServer' || judged.has(flow) || flow.tls === 'pending') return undefined;
      judged.add(flow);
      if (flow.sni === undefined || !matches(flow.sni)) return undefined;
      return verdictFor(ctx, flow, `SNI ${flow.sni} is blocked`);
    },
    review(ctx, flow) {
      if (flow.sni === undefined || !matches(flow.sni)) return undefined;
      judged.add(flow);
      return verdictFor(ctx, flow, `SNI ${flow.sni} is blocked (rule switched on mid-connection)`);
    },
  };
}
