/**
 * Connection-rate policing on Russian home ISPs (net4people/bbs #546, November 2025; CENSORS.md
 * item 8): a client opening more than N new connections per minute to one destination gets its new
 * connections dropped, recovering after about a minute. N is not published; the default is a guess
 * and tests set their own. Counted per (client IP, server IP:port).
 */
import { destinationMatcher, formatEndpoint } from '../address.js';
import type { DestinationPattern } from '../address.js';
import type { Rule } from '../types.js';
import { ResidualTable, checkDuration, checkPositiveInt, secondsText } from './residual.js';
import { pairKey } from './sni-filter.js';

export const DEFAULT_RATE_MAX_CONNECTIONS = 10;
export const DEFAULT_RATE_WINDOW_MS = 60_000;
export const DEFAULT_RATE_COOLDOWN_MS = 60_000;

export interface ConnectionRateOptions {
  /** New connections allowed per window; the next one starts the cooldown. */
  readonly maxConnections?: number;
  readonly windowMs?: number;
  readonly cooldownMs?: number;
  /** Also drop packets of connections already open while cooling down ("tunnels die once data flows"). */
  readonly dropExisting?: boolean;
  /** Police only these destinations (all when absent). */
  readonly destinations?: readonly DestinationPattern[];
  readonly name?: string;
}

export function connectionRate(options: ConnectionRateOptions = {}): Rule {
  const max = checkPositiveInt('maxConnections', options.maxConnections ?? DEFAULT_RATE_MAX_CONNECTIONS);
  const windowMs = checkDuration('windowMs', options.windowMs ?? DEFAULT_RATE_WINDOW_MS);
  const cooldownMs = checkDuration('cooldownMs', options.cooldownMs ?? DEFAULT_RATE_COOLDOWN_MS);
  const inScope = options.destinations === undefined ? () => true : destinationMatcher(options.destinations);
  const recent = new Map<string, number[]>();
  const cooling = new ResidualTable();

  return {
    name: options.name ?? 'connectionRate',
    connect(ctx, attempt) {
      if (!inScope(attempt.server)) return undefined;
      const key = pairKey(attempt.client.ip, attempt.server);
      const left = cooling.remaining(ctx.clock, key);
      if (left > 0) return { action: 'hang', reason: `connection-rate cooldown for ${formatEndpoint(attempt.server)} (${secondsText(left)} left)` };
      const now = ctx.clock.now();
      const times = (recent.get(key) ?? []).filter((t) => t > now - windowMs);
      times.push(now);
      recent.set(key, times);
      if (times.length <= max) return undefined;
      recent.delete(key);
      cooling.block(ctx.clock, key, cooldownMs);
      return { action: 'hang', reason: `more than ${max} new connections within ${secondsText(windowMs)} to ${formatEndpoint(attempt.server)}; cooling down ${secondsText(cooldownMs)}` };
    },
    packet(ctx, flow) {
      if (options.dropExisting !== true) return undefined;
      const left = cooling.remaining(ctx.clock, pairKey(flow.client.ip, flow.server));
      return left > 0 ? { action: 'drop', direction: 'both', reason: 'connection-rate cooldown drops open connections too' } : undefined;
    },
  };
}
