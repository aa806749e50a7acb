/**
 * Allowlist mode of Russian mobile networks (net4people/bbs #516, September 2025; CENSORS.md
 * item 9): the ISP's DNS still answers and the TCP handshake to any address succeeds, but the first
 * client data (the ClientHello) is dropped unless the destination is allowlisted: first by IP,
 * later by IP plus the SNI in the ClientHello. Everything after a dropped ClientHello is dropped too.
 */
import { destinationMatcher, formatEndpoint, nameMatcher } from '../address.js';
import type { DestinationPattern, NamePattern } from '../address.js';
import type { FlowInfo, PacketVerdict, Rule } from '../types.js';

export interface AllowEntry {
  readonly destination: DestinationPattern;
  /** When given, the ClientHello's SNI must also match (the later, IP+SNI form). */
  readonly names?: readonly NamePattern[];
}

export interface AllowlistOptions {
  readonly allow: readonly (DestinationPattern | AllowEntry)[];
  readonly name?: string;
}

export function allowlist(options: AllowlistOptions): Rule {
  const entries = options.allow.map((e) => {
    const entry: AllowEntry = typeof e === 'object' && typeof e !== 'function' ? e : { destination: e };
    return {
      destination: destinationMatcher([entry.destination]),
      names: entry.names === undefined ? undefined : nameMatcher(entry.names),
    };
  });
  const decided = new WeakMap<FlowInfo, boolean>();

  /** undefined: cannot tell yet (the ClientHello is still arriving). */
  const allowed = (flow: FlowInfo): boolean | undefined => {
    let needsName = false;
    for (const e of entries) {
      if (!e.destination(flow.server)) continue;
      if (e.names === undefined) return true;
      needsName = true;
      if (flow.sni !== undefined && e.names(flow.sni)) return true;
    }
    if (needsName && flow.tls === 'pending') return undefined;
    return false;
  };
  const drop = (flow: FlowInfo, late: boolean): PacketVerdict => ({
    action: 'drop',
    direction: 'both',
    reason: `${formatEndpoint(flow.server)}${flow.sni !== undefined ? ` (SNI ${flow.sni})` : ''} is not on the allowlist${late ? ' (allowlist switched on mid-connection)' : ''}`,
  });

  return {
    name: options.name ?? 'allowlist',
    packet(_ctx, flow, packet) {
      if (packet.direction !== 'toServer') return undefined;
      const known = decided.get(flow);
      if (known === true) return undefined;
      const verdict = allowed(flow);
      if (verdict === undefined) return undefined; // first segments of a split ClientHello: judged when complete
      decided.set(flow, verdict);
      return verdict ? undefined : drop(flow, false);
    },
    review(_ctx, flow) {
      const verdict = allowed(flow);
      if (verdict !== false) return undefined;
      decided.set(flow, false);
      return drop(flow, true);
    },
  };
}
