/**
 * DNS poisoning: the censor answers for listed names with a bogus address (GFW style, or an ISP
 * stub address in Russia) or NXDOMAIN. Connections to the bogus address go nowhere: by default the
 * rule swallows them (connect hangs), so the lab never sends traffic to a real foreign address.
 */
import { nameMatcher } from '../address.js';
import type { NamePattern } from '../address.js';
import { LabError } from '../errors.js';
import { isIP } from 'node:net';
import type { Rule } from '../types.js';

/** RFC 5737 TEST-NET-1: an address that belongs to no one. */
export const DEFAULT_BOGUS_ADDRESS = '192.0.2.1';

export interface DnsPoisonOptions {
  readonly names: readonly NamePattern[];
  /** 'nxdomain', or the bogus address(es) to answer with. */
  readonly answer?: 'nxdomain' | string | readonly string[];
  /** What a connect to a bogus address does: hang (default), reject, or pass to the real network. */
  readonly bogusConnect?: 'hang' | 'reject' | 'pass';
  readonly name?: string;
}

export function dnsPoison(options: DnsPoisonOptions): Rule {
  const matches = nameMatcher(options.names);
  const answer = options.answer ?? DEFAULT_BOGUS_ADDRESS;
  const bogus = answer === 'nxdomain' ? [] : typeof answer === 'string' ? [answer] : [...answer];
  for (const ip of bogus) if (isIP(ip) === 0) throw new LabError('BAD_OPTION', `bogus answer is not an IP address: ${ip}`);
  if (answer !== 'nxdomain' && bogus.length === 0) throw new LabError('BAD_OPTION', 'answer needs at least one address');
  const bogusConnect = options.bogusConnect ?? 'hang';
  return {
    name: options.name ?? 'dnsPoison',
    resolve(_ctx, name) {
      if (!matches(name)) return undefined;
      if (answer === 'nxdomain') return { action: 'nxdomain', reason: `${name} is on the DNS blocklist (NXDOMAIN)` };
      return { action: 'answer', addresses: bogus, reason: `${name} is on the DNS blocklist (answered ${bogus.join(', ')})` };
    },
    connect(_ctx, attempt) {
      if (bogusConnect === 'pass' || !bogus.includes(attempt.server.ip)) return undefined;
      const reason = `${attempt.server.ip} is a poisoned DNS answer; nothing listens there`;
      return bogusConnect === 'hang' ? { action: 'hang', reason } : { action: 'reject', reason };
    },
  };
}
