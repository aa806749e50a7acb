/**
 * IP (and port) blocking. TSPU: "drop all, or RST/ACK to the SYN" (CENSORS.md item 2; Xue et al.,
 * "TSPU: Russia's Decentralized Censorship System", IMC 2022). 'drop' makes connect hang until the
 * client's own timeout (ETIMEDOUT); 'reject' refuses at once (ECONNREFUSED).
 */
import { destinationMatcher, formatEndpoint } from '../address.js';
import type { DestinationPattern } from '../address.js';
import type { Rule } from '../types.js';

export interface IpBlockOptions {
  readonly destinations: readonly DestinationPattern[];
  readonly action?: 'drop' | 'reject';
  readonly name?: string;
}

export function ipBlock(options: IpBlockOptions): Rule {
  const matches = destinationMatcher(options.destinations);
  const action = options.action ?? 'drop';
  return {
    name: options.name ?? 'ipBlock',
    connect(_ctx, attempt) {
      if (!matches(attempt.server)) return undefined;
      const reason = `${formatEndpoint(attempt.server)} is on the IP blocklist`;
      return action === 'drop' ? { action: 'hang', reason } : { action: 'reject', reason };
    },
    review(_ctx, flow) {
      if (!matches(flow.server)) return undefined;
      const reason = `${formatEndpoint(flow.server)} is on the IP blocklist (blocked mid-connection)`;
      return action === 'drop' ? { action: 'drop', direction: 'both', reason } : { action: 'reset', reason };
    },
  };
}
