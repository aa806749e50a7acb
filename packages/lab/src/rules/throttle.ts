/**
 * Throttling by SNI or destination, as Russia slowed Twitter in March 2021 to about 130-150 kbps
 * (CENSORS.md item 4; Xue et al., "Throttling Twitter", IMC 2021) and *.googlevideo.com in 2024.
 *
 * A token bucket per connection. The real throttler drops packets above the rate; TCP retransmits
 * them, so what the endpoints observe is the same bytes arriving later. The lab models exactly that
 * observable effect: packets over the rate are delayed, never lost from the byte stream.
 */
import { destinationMatcher, nameMatcher } from '../address.js';
import type { DestinationPattern, NamePattern } from '../address.js';
import { LabError } from '../errors.js';
import type { Direction, FlowInfo, Rule } from '../types.js';

/** Twitter 2021: ~130 kbps. */
export const DEFAULT_THROTTLE_BPS = 130_000;
/** Bytes that may pass at line rate before the bucket empties (about one TCP initial window). */
export const DEFAULT_THROTTLE_BURST_BYTES = 14_600;

export interface ThrottleOptions {
  readonly names?: readonly NamePattern[];
  readonly destinations?: readonly DestinationPattern[];
  /** Bits per second, per connection and direction. */
  readonly rateBps?: number;
  readonly burstBytes?: number;
  readonly directions?: 'both' | Direction;
  readonly name?: string;
}

interface Bucket {
  tokens: number;
  last: number;
}

export function throttle(options: ThrottleOptions): Rule {
  if ((options.names?.length ?? 0) === 0 && (options.destinations?.length ?? 0) === 0)
    throw new LabError('BAD_OPTION', 'throttle needs names or destinations');
  const byName = nameMatcher(options.names ?? []);
  const byDestination = destinationMatcher(options.destinations ?? []);
  const rateBps = options.rateBps ?? DEFAULT_THROTTLE_BPS;
  if (!(rateBps > 0) || !Number.isFinite(rateBps)) throw new LabError('BAD_OPTION', 'rateBps must be positive');
  const burst = options.burstBytes ?? DEFAULT_THROTTLE_BURST_BYTES;
  if (!(burst >= 0) || !Number.isFinite(burst)) throw new LabError('BAD_OPTION', 'burstBytes must be >= 0');
  const directions = options.directions ?? 'both';
  const bytesPerMs = rateBps / 8 / 1000;
  const buckets = new WeakMap<FlowInfo, Record<Direction, Bucket>>();
  const targeted = (flow: FlowInfo) => byDestination(flow.server) || (flow.sni !== undefined && byName(flow.sni));

  return {
    name: options.name ?? 'throttle',
    packet(ctx, flow, packet) {
      if (directions !== 'both' && directions !== packet.direction) return undefined;
      if (!targeted(flow)) return undefined;
      const now = ctx.clock.now();
      let pair = buckets.get(flow);
      if (pair === undefined) {
        pair = { toServer: { tokens: burst, last: now }, toClient: { tokens: burst, last: now } };
        buckets.set(flow, pair);
      }
      const b = pair[packet.direction];
      b.tokens = Math.min(burst, b.tokens + (now - b.last) * bytesPerMs);
      b.last = now;
      b.tokens -= packet.bytes.length;
      if (b.tokens >= 0) return undefined;
      // The packet leaves when the bucket has refilled its debt (debt includes packets queued before it).
      return { action: 'delay', ms: -b.tokens / bytesPerMs, reason: `throttled to ${Math.round(rateBps / 1000)} kbps` };
    },
  };
}
