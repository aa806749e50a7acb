/**
 * The 16-20 KB freeze (net4people/bbs #490, June 2025; CENSORS.md item 7): on TCP to flagged
 * (foreign datacenter) destinations, once about 16 KB went server->client in ONE connection, the
 * server's further packets are silently dropped. Per connection: a new connection gets another 16 KB.
 * Checkers saw thresholds of 12-24 KB. Client->server packets still pass.
 */
import { destinationMatcher, nameMatcher } from '../address.js';
import type { DestinationPattern, NamePattern } from '../address.js';
import { LabError } from '../errors.js';
import type { Rule } from '../types.js';

export const DEFAULT_FREEZE_BYTES = 16_384;

export interface FreezeOptions {
  /** Flagged destinations; all destinations when neither this nor names is given. */
  readonly destinations?: readonly DestinationPattern[];
  readonly names?: readonly NamePattern[];
  /** Server->client bytes a connection may carry (12-24 KB observed). */
  readonly thresholdBytes?: number;
  readonly name?: string;
}

export function freeze(options: FreezeOptions = {}): Rule {
  const threshold = options.thresholdBytes ?? DEFAULT_FREEZE_BYTES;
  if (!Number.isInteger(threshold) || threshold < 1) throw new LabError('BAD_OPTION', 'thresholdBytes must be a positive integer');
  const everything = (options.destinations?.length ?? 0) === 0 && (options.names?.length ?? 0) === 0;
  const byDestination = destinationMatcher(options.destinations ?? []);
  const byName = nameMatcher(options.names ?? []);
  const flagged = (server: { ip: string; port: number }, sni: string | undefined) =>
    everything || byDestination(server) || (sni !== undefined && byName(sni));
  const reason = `more than ${threshold} bytes server->client on one connection to a flagged destination`;
  return {
    name: options.name ?? 'freeze',
    packet(_ctx, flow, packet) {
      if (packet.direction !== 'toClient' || !flagged(flow.server, flow.sni)) return undefined;
      if (flow.bytesToClient + packet.bytes.length <= threshold) return undefined;
      return { action: 'drop', direction: 'toClient', reason };
    },
    review(_ctx, flow) {
      if (!flagged(flow.server, flow.sni) || flow.bytesToClient < threshold) return undefined;
      return { action: 'drop', direction: 'toClient', reason };
    },
  };
}
