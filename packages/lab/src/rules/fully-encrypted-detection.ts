/**
 * The GFW's blocking of fully encrypted traffic (Wu et al., USENIX Security 2023; CENSORS.md item 12).
 * The first client data packet of a connection is checked against exemptions Ex1-Ex5
 * (../fully-encrypted.ts); a packet that fits none is blocked with `probability` (the paper measured
 * about 26% of such connections blocked; the default 1 keeps tests deterministic). The connection is
 * dropped both ways and its (client IP, server IP, server port) stays blocked for 180 s.
 */
import { destinationMatcher } from '../address.js';
import type { DestinationPattern } from '../address.js';
import { LabError } from '../errors.js';
import { classifyFirstPacket } from '../fully-encrypted.js';
import type { CensorContext, FlowInfo, PacketVerdict, Rule } from '../types.js';
import { ResidualTable, checkDuration, secondsText } from './residual.js';
import { pairKey } from './sni-filter.js';

/** Wu et al. §4.4: residual blocking of the 3-tuple for 180 s. */
export const DEFAULT_FET_RESIDUAL_MS = 180_000;

export interface FullyEncryptedDetectionOptions {
  /** Chance a non-exempt connection is blocked (0..1). */
  readonly probability?: number;
  readonly residualMs?: number;
  /** Limit detection to these destinations (all when absent). */
  readonly destinations?: readonly DestinationPattern[];
  readonly name?: string;
}

export function fullyEncryptedDetection(options: FullyEncryptedDetectionOptions = {}): Rule {
  const probability = options.probability ?? 1;
  if (!(probability >= 0 && probability <= 1)) throw new LabError('BAD_OPTION', 'probability must be within 0..1');
  const residualMs = checkDuration('residualMs', options.residualMs ?? DEFAULT_FET_RESIDUAL_MS);
  const inScope = options.destinations === undefined ? () => true : destinationMatcher(options.destinations);
  const residual = new ResidualTable();
  const judged = new WeakSet<FlowInfo>();

  const judge = (ctx: CensorContext, flow: FlowInfo, first: Uint8Array, late: boolean): PacketVerdict | undefined => {
    judged.add(flow);
    if (!inScope(flow.server)) return undefined;
    const v = classifyFirstPacket(first);
    if (v.exempt) return undefined;
    if (ctx.random() >= probability) return undefined;
    residual.block(ctx.clock, pairKey(flow.client.ip, flow.server), residualMs);
    return {
      action: 'drop',
      direction: 'both',
      reason:
        `first packet looks fully encrypted (no exemption: popcount ${v.popcountPerByte.toFixed(2)}/byte, ` +
        `${Math.round(v.printableFraction * 100)}% printable, longest printable run ${v.longestPrintableRun})` +
        (late ? ' (rule switched on mid-connection)' : ''),
    };
  };

  return {
    name: options.name ?? 'fullyEncryptedDetection',
    connect(ctx, attempt) {
      const left = residual.remaining(ctx.clock, pairKey(attempt.client.ip, attempt.server));
      if (left === 0) return undefined;
      return { action: 'hang', reason: `residual block of ${pairKey(attempt.client.ip, attempt.server)} after fully encrypted traffic (${secondsText(left)} left)` };
    },
    packet(ctx, flow, packet) {
      if (packet.direction !== 'toServer' || judged.has(flow)) return undefined;
      return judge(ctx, flow, packet.bytes, false);
    },
    review(ctx, flow) {
      if (judged.has(flow) || flow.firstClientPacket === undefined) return undefined;
      return judge(ctx, flow, flow.firstClientPacket, true);
    },
  };
}

