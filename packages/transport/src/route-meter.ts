/**
 * Throughput and latency of a live route, measured from the frames the SDK already exchanges
 * (docs/transport.md "Leaving a slow route"). Every client frame is a request carrying its id in
 * bytes 2..5 and the relay answers each with exactly one reply carrying the same id
 * (docs/relay-api.md), so without adding any traffic the meter knows:
 * - when data is pending: at least one request is unanswered ("busy" time);
 * - the round-trip time of every request, including the SDK's keepalive pings (the smallest RTT
 *   seen is the route's baseline; a reply queued behind a throttled backlog comes back late);
 * - the bytes that moved while data was pending: request bytes once answered (upstream) and every
 *   byte received while busy (downstream: pushes queued ahead of a reply arrive before it).
 * The judged window is the most recent stretch holding enough busy time and bytes; the verdict says
 * whether the route is throttled: the rate is low AND replies come back far later than the baseline. The second
 * condition keeps a link that is slow only because it is far away (long RTT) from counting.
 */
import { CLIENT_FRAME_TYPES, RELAY_FRAME_TYPES } from '@pigeon/api';

/**
 * Below this effective rate (bits/s) with data pending, a route is slow. Twice the throttles seen
 * in the wild (Russia's 2021 Twitter throttle: 130-150 kbit/s; googlevideo 2024), and under what
 * any working mobile link gives (3G: 384 kbit/s and up), so only a throttle or a dying link fall
 * below it.
 */
export const SLOW_RATE_BPS = 256_000;
/**
 * A window is judged only once it holds this much time with a request unanswered. Even a window
 * that includes a throttler's line-rate burst (a TCP initial window, 14.6 KB) stays under
 * SLOW_RATE_BPS at 130 kbit/s: (14.6 KB + 1 s x 16.25 KB/s) / 1 s = 245 kbit/s; and the window
 * rolls (one THROTTLE_CHECK_MS later it no longer includes the burst).
 */
export const JUDGE_BUSY_MS = 1_000;
/** ... and this many bytes moved (or were due): pings (6 B) and acks are not "data pending". */
export const JUDGE_MIN_BYTES = 8_192;
/** Samples older than this are dropped (a window never gathers enough from long-gone traffic). */
export const JUDGE_WINDOW_MAX_MS = 30_000;
/** Replies must come back this many times later than the route's baseline RTT to count as queued. */
export const RTT_INFLATION = 4;
/**
 * ... and at least this late (ms): a loopback or LAN route inflating from 1 ms to 10 ms under load
 * is not throttled, and no user notices a delay this short.
 */
export const MIN_LOADED_RTT_MS = 300;

export interface MeterVerdict {
  readonly slow: boolean;
  /** Effective rate over the window's busy time, bits/s (the larger of up and down). */
  readonly rateBps: number;
  /** Median reply delay in the window (unanswered requests count with their age so far). */
  readonly loadedRttMs: number;
  /** The smallest RTT seen on this route. */
  readonly baselineRttMs: number;
  readonly busyMs: number;
  readonly bytes: number;
}

const FIRST_CLIENT_TYPE = 0x01;
const LAST_CLIENT_TYPE = Math.max(...Object.values(CLIENT_FRAME_TYPES));
/** Relay frames that answer a request (their id follows the type byte). */
const REPLY_TYPES: ReadonlySet<number> = new Set([
  RELAY_FRAME_TYPES.ok,
  RELAY_FRAME_TYPES.error,
  RELAY_FRAME_TYPES.bundles,
  RELAY_FRAME_TYPES.prekey_status_result,
  RELAY_FRAME_TYPES.pong,
  RELAY_FRAME_TYPES.device_list,
  RELAY_FRAME_TYPES.device_bundles,
]);

function idAt2(frame: Uint8Array): number | undefined {
  if (frame.length < 6) return undefined;
  return ((frame[2]! << 24) | (frame[3]! << 16) | (frame[4]! << 8) | frame[5]!) >>> 0;
}

/** The request id of a client frame, or undefined for anything else. */
export function requestIdOf(frame: Uint8Array): number | undefined {
  const type = frame[1];
  if (type === undefined || type < FIRST_CLIENT_TYPE || type > LAST_CLIENT_TYPE) return undefined;
  return idAt2(frame);
}

/** The request id a relay frame answers, or undefined (pushes, the challenge, an error with id 0). */
export function replyIdOf(frame: Uint8Array): number | undefined {
  const type = frame[1];
  if (type === undefined || !REPLY_TYPES.has(type)) return undefined;
  const id = idAt2(frame);
  return id === 0 ? undefined : id;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Slice {
  readonly at: number;
  readonly busyMs: number;
  readonly upBytes: number;
  readonly downBytes: number;
  readonly rtts: readonly number[];
}

export class RouteMeter {
  private readonly outstanding = new Map<number, { readonly at: number; readonly bytes: number }>();
  private busySince: number | undefined;
  private busyMs = 0;
  private upBytes = 0;
  private downBytes = 0;
  private rtts: number[] = [];
  private baseline = Number.POSITIVE_INFINITY;
  /** Closed slices (one per judge() call with busy time), newest last, at most JUDGE_WINDOW_MAX_MS old. */
  private slices: Slice[] = [];

  constructor(private readonly now: () => number) {}

  /** The smallest RTT seen on this route (Infinity before the first reply). */
  get baselineRttMs(): number {
    return this.baseline;
  }

  sent(frame: Uint8Array): void {
    const id = requestIdOf(frame);
    if (id === undefined) return;
    const t = this.now();
    if (this.outstanding.size === 0) this.busySince = t;
    this.outstanding.set(id, { at: t, bytes: frame.length });
  }

  received(frame: Uint8Array): void {
    const t = this.now();
    if (this.busySince !== undefined) this.downBytes += frame.length;
    const id = replyIdOf(frame);
    if (id === undefined) return;
    const o = this.outstanding.get(id);
    if (o === undefined) return;
    this.outstanding.delete(id);
    const rtt = t - o.at;
    this.rtts.push(rtt);
    if (rtt < this.baseline) this.baseline = rtt;
    this.upBytes += o.bytes;
    if (this.outstanding.size === 0 && this.busySince !== undefined) {
      this.busyMs += t - this.busySince;
      this.busySince = undefined;
    }
  }

  /**
   * The verdict on the most recent stretch of busy time: the newest slices back to JUDGE_BUSY_MS of
   * busy time and JUDGE_MIN_BYTES, or undefined while there is not that much. Rolling: a verdict
   * that is not slow keeps the slices (the next call looks at a window one slice later), so a
   * throttle is seen JUDGE_BUSY_MS after it starts to bite, wherever the windows fall; a slow
   * verdict starts afresh. Unanswered requests count with their bytes and age: a route so
   * throttled that nothing comes back is judged too.
   */
  judge(): MeterVerdict | undefined {
    const t = this.now();
    this.closeSlice(t);
    const pending = [...this.outstanding.values()];
    const pendingBytes = pending.reduce((n, o) => n + o.bytes, 0);
    let busy = 0;
    let up = 0;
    let down = 0;
    const samples = pending.map((o) => t - o.at);
    for (let i = this.slices.length - 1; i >= 0; i--) {
      const s = this.slices[i]!;
      busy += s.busyMs;
      up += s.upBytes;
      down += s.downBytes;
      samples.push(...s.rtts);
      const bytes = Math.max(up + pendingBytes, down);
      if (busy < JUDGE_BUSY_MS || bytes < JUDGE_MIN_BYTES) continue;
      const rateBps = (Math.max(up, down) * 8 * 1000) / busy;
      const loadedRttMs = samples.length > 0 ? median(samples) : busy;
      const baselineRttMs = this.baseline;
      const inflated = loadedRttMs >= MIN_LOADED_RTT_MS && (!Number.isFinite(baselineRttMs) || loadedRttMs >= RTT_INFLATION * baselineRttMs);
      const slow = rateBps < SLOW_RATE_BPS && inflated;
      if (slow) this.slices = [];
      return { slow, rateBps, loadedRttMs, baselineRttMs, busyMs: busy, bytes };
    }
    return undefined;
  }

  private closeSlice(t: number): void {
    const busy = this.busyMs + (this.busySince !== undefined ? t - this.busySince : 0);
    if (busy > 0) this.slices.push({ at: t, busyMs: busy, upBytes: this.upBytes, downBytes: this.downBytes, rtts: this.rtts });
    this.slices = this.slices.filter((s) => s.at > t - JUDGE_WINDOW_MAX_MS);
    this.busyMs = 0;
    this.busySince = this.outstanding.size > 0 ? t : undefined;
    this.upBytes = 0;
    this.downBytes = 0;
    this.rtts = [];
  }
}
