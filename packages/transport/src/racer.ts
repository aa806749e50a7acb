/**
 * The route racer (docs/transport.md "Racer policy"): a SocketFactory that, for each connection
 * the SDK asks for, races the routes it knows to that relay and hands the SDK the first one on
 * which the relay has spoken (its `challenge` frame is proof the whole path works end to end).
 *
 * - Order: the last route that worked first, then the configured order; a route that failed or
 *   stalled within FAILURE_PENALTY_MS goes to the back; after a stall, tunnels go first for as long.
 * - Happy eyeballs: the next attempt starts after `staggerMs` (clamped to 250 ms..2 s) or at once
 *   when an attempt fails; at most `maxConcurrentAttempts` at a time; losers are closed.
 * - Politeness: at most `maxAttemptsPerMinute` attempts per destination (ip:port) per minute,
 *   counted across all races, so a blocked address is not hammered (connection-rate policing,
 *   CENSORS.md 8, and a censor's "who keeps knocking" heuristics).
 * - Stall detection: the racer's reply watchdog (frames sent, nothing back for 3 s) and the SDK's
 *   keepalive (RACER_CONNECTION_TUNING: ping every 2 s, dead 3 s later); either closes the socket
 *   with 4000, the racer marks that route failed, and the SDK's
 *   reconnect (backoff with jitter) asks for a new race. The outbox + relay acks make the switch
 *   lossless; the relay dedupes resends by message id and the recipient by content id.
 * - All routes failing closes the socket with reason NO_ROUTE; the SDK queues and retries.
 * - Slow routes: a route can stay alive but throttled (SNI throttling delays, it does not cut). A
 *   RouteMeter watches the live route; when it is judged throttled, other routes are probed in the
 *   background while the live one keeps working, and the racer switches only to a candidate that
 *   answers clearly sooner at the same moment (docs/transport.md "Leaving a slow route").
 */
import { defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { CLOSE_ABNORMAL } from './channel.js';
import type { RelaySocket, SocketFactory, SocketHandlers } from './channel.js';
import { RACER_PING_ID_BASE, isRacerReply, probeRoutes, racerPing } from './background-probe.js';
import type { ParkedRoute, Probe } from './background-probe.js';
import { MIN_LOADED_RTT_MS, RouteMeter, replyIdOf } from './route-meter.js';
import type { MeterVerdict } from './route-meter.js';
import type { RouteBook } from './route-book.js';
import { openRoute, routeDestination, routeLabel, routeRelayUrl } from './routes.js';
import type { Route, RouteContext } from './routes.js';
import { realNet } from './seams.js';
import type { NetSeams } from './seams.js';
import type { TunnelTuning } from './tunnel-client.js';

export const DEFAULT_STAGGER_MS = 1_000;
export const MIN_STAGGER_MS = 250;
export const MAX_STAGGER_MS = 2_000;
export const DEFAULT_MAX_CONCURRENT_ATTEMPTS = 3;
export const DEFAULT_MAX_ATTEMPTS_PER_MINUTE = 8;
/** An attempt on which the relay has not spoken within this time is abandoned. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 15_000;
export const FAILURE_PENALTY_MS = 60_000;
/**
 * Reply watchdog: the relay answers every client frame (docs/relay-api.md), so a route on which
 * frames were sent and nothing at all came back for this long (plus time for the bytes at
 * REPLY_WATCHDOG_MIN_RATE) is stalled. Catches a censor's silent drop within seconds of the next
 * send, before the keepalive would.
 */
export const DEFAULT_REPLY_TIMEOUT_MS = 3_000;
/** Slowest rate the watchdog assumes (bytes/s); below a throttle's 130 kbps (16 KB/s) with margin. */
export const REPLY_WATCHDOG_MIN_RATE = 4_096;
const RATE_WINDOW_MS = 60_000;
/** WebSocket close code the SDK uses when its keepalive declares a socket dead. */
export const KEEPALIVE_CLOSE_CODE = 4000;
export const NO_ROUTE_REASON = 'NO_ROUTE';

/**
 * How often the throughput watchdog reads the live route's meter (cheap: a sum over a few dozen
 * slices); also the meter's slice length, so a throttle is seen at most this long after
 * JUDGE_BUSY_MS of it.
 */
export const THROTTLE_CHECK_MS = 250;
/**
 * Switch only to a candidate whose ping comes back at least this many times sooner than a ping
 * sent on the live route at the same moment... (hysteresis: two routes that differ by noise never
 * trade places; a throttled backlog makes the live route seconds slower, far beyond it)
 */
export const SWITCH_RTT_FACTOR = 2;
/**
 * ...and at least this much sooner (ms). A loaded connection's ping also waits behind its own
 * queues on the far side (the relay handles one connection's frames in order, socket buffers), which
 * a fresh idle candidate skips: measured 190-270 ms on an unthrottled bridge carrying an 800 KB
 * burst. A throttled backlog delays it by seconds (measured 1-2 s at 130 kbit/s).
 */
export const SWITCH_MIN_GAIN_MS = 500;
/**
 * After a look for a faster route that did not switch (no candidate, none answered, none clearly
 * better), the next look at that relay waits this long, doubling each time up to
 * THROTTLE_RECHECK_MAX_MS: a route throttled everywhere is not re-probed every few seconds
 * (connection attempts are what censors count, CENSORS.md 8). A switch resets it.
 */
export const THROTTLE_RECHECK_MS = 30_000;
export const THROTTLE_RECHECK_MAX_MS = 600_000;
/**
 * A route the racer left for a faster one is no candidate for a background switch for this long,
 * and goes behind the others in races: after leaving a throttled route the racer never switches
 * back to it on the strength of a quick idle ping (a token bucket lets pings through at line rate).
 * Only a route that lost a comparison is remembered: a verdict alone can be the relay's hiccup.
 */
export const SLOW_MEMORY_MS = 600_000;
/** A probed connection waiting for the SDK's reconnect is closed if not taken within this. */
export const PARKED_TTL_MS = 10_000;
/**
 * When the live route's backlog had drained by the time a candidate was measured (its ping came
 * back under MIN_LOADED_RTT_MS: nothing to compare), the candidate stays open this long as a warm
 * standby: the next slow verdict re-measures both at once without dialing again.
 */
export const STANDBY_MS = 30_000;
/** Close code and reason the SDK sees when the racer moves it to a faster route (it reconnects at once). */
export const ROUTE_SWITCH_CLOSE_CODE = 1001;
export const ROUTE_SWITCH_REASON = 'ROUTE_SWITCH';
/** The racer's pings on the live route use ids base+0x80..base+0xff (the probe's own use base+0..). */
const LIVE_PING_INDEX = 0x80;

/**
 * Connection tuning to give the SDK together with the racer: an idle connection whose route stalls
 * (a censor silently dropping packets) is noticed 3-5 s after the stall (next ping + 3 s); one that
 * is sending is noticed by the reply watchdog 3 s after its next send. The first reconnect comes
 * within 0.5 s. The keepalive dominates recovery from a silent drop (bench:lab measured 59-95% of
 * it at 4 s + 4 s), hence the short interval; a ping is ~10 bytes, so through the tunnel (8 KB per
 * connection) they still cost only a few new connections a minute per session, well under
 * connection-rate policing (CENSORS.md 8).
 */
export const RACER_CONNECTION_TUNING = {
  keepaliveIntervalMs: 2_000,
  keepaliveTimeoutMs: 3_000,
  reconnectBaseMs: 500,
  reconnectMaxMs: 15_000,
} as const;

export type RacerPhase = 'idle' | 'connecting' | 'connected' | 'no-route';

export interface RacerStatus {
  readonly relayUrl: string;
  readonly phase: RacerPhase;
  /** The route in use (connected) or last tried. */
  readonly route?: string;
  readonly since: number;
  /**
   * Why the racer is where it is, when a route was measured slow: "left direct ...: throttled to
   * 120 kbit/s", "direct ... throttled to 120 kbit/s; no faster route" (for `pigeon status`/doctor).
   */
  readonly reason?: string;
}

export interface AttemptEvent {
  readonly relayUrl: string;
  readonly route: string;
  /**
   * started/won/failed/timeout/rate-limited/lost/stalled: the race. throttled: the live route was
   * judged slow (detail: rate, RTTs); probed: a background candidate reached the relay (detail: its
   * RTT); kept: a probe did not lead to a switch (why); switched: leaving the live route (the next
   * 'won' is the candidate taking over).
   */
  readonly outcome: 'started' | 'won' | 'failed' | 'timeout' | 'rate-limited' | 'lost' | 'stalled' | 'throttled' | 'probed' | 'kept' | 'switched';
  readonly at: number;
  readonly detail?: string;
}

export interface RacerOptions {
  /** Routes beyond those in `book` (e.g. from the command line); both are used. */
  readonly routes?: readonly Route[];
  readonly book?: RouteBook;
  /** Adds a plain direct route to the relay URL the SDK asks for (default true). */
  readonly includeDirect?: boolean;
  readonly net?: NetSeams;
  readonly crypto?: CryptoBackend;
  readonly staggerMs?: number;
  readonly maxConcurrentAttempts?: number;
  readonly maxAttemptsPerMinute?: number;
  readonly attemptTimeoutMs?: number;
  /** Reply watchdog (0 disables; the SDK keepalive still detects stalls). */
  readonly replyTimeoutMs?: number;
  /** Throughput watchdog: leave a throttled route for a clearly faster one (default true). */
  readonly leaveSlowRoutes?: boolean;
  readonly stepTimeoutMs?: number;
  readonly tunnel?: TunnelTuning;
  readonly localAddress?: string;
  readonly now?: () => number;
  readonly onStatus?: (status: RacerStatus) => void;
  readonly onAttempt?: (event: AttemptEvent) => void;
}

interface Attempt {
  readonly route: Route;
  readonly label: string;
  socket: RelaySocket | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
}

function sameRelay(a: string, b: string): boolean {
  try {
    return new URL(a).toString() === new URL(b).toString();
  } catch {
    return a === b;
  }
}

export class RouteRacer {
  /** The SocketFactory to give the SDK (bound; safe to pass around). */
  readonly factory: SocketFactory = (url, handlers) => this.race(url, handlers);
  private readonly extra: Route[];
  private readonly failedAt = new Map<string, number>();
  private readonly attemptsAt = new Map<string, number[]>();
  private readonly statuses = new Map<string, RacerStatus>();
  private readonly listeners = new Set<(s: RacerStatus) => void>();
  private readonly live = new Map<string, Set<string>>();
  private readonly now: () => number;
  private readonly ctx: RouteContext;

  constructor(private readonly options: RacerOptions = {}) {
    this.extra = [...(options.routes ?? [])];
    this.now = options.now ?? Date.now;
    this.ctx = {
      net: options.net ?? realNet,
      crypto: options.crypto ?? defaultBackend(),
      now: this.now,
      ...(options.stepTimeoutMs !== undefined ? { stepTimeoutMs: options.stepTimeoutMs } : {}),
      ...(options.tunnel !== undefined ? { tunnel: options.tunnel } : {}),
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    };
    if (options.onStatus !== undefined) this.listeners.add(options.onStatus);
  }

  addRoutes(routes: readonly Route[]): void {
    const labels = new Set(this.extra.map(routeLabel));
    for (const r of routes) if (!labels.has(routeLabel(r))) this.extra.push(r);
  }

  onStatus(fn: (s: RacerStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Status of one relay, or of the first one asked for. */
  status(relayUrl?: string): RacerStatus | undefined {
    if (relayUrl !== undefined) return [...this.statuses.values()].find((s) => sameRelay(s.relayUrl, relayUrl));
    return this.statuses.values().next().value;
  }

  /** The routes the racer would try for a relay, in order. */
  candidates(relayUrl: string): Route[] {
    const all = [...(this.options.book?.routes() ?? []), ...this.extra].filter((r) => sameRelay(routeRelayUrl(r), relayUrl));
    const seen = new Set<string>();
    const unique = all.filter((r) => {
      const l = routeLabel(r);
      if (seen.has(l)) return false;
      seen.add(l);
      return true;
    });
    if (this.options.includeDirect !== false && !unique.some((r) => r.kind === 'direct' && r.proxy === undefined && sameRelay(r.url, relayUrl))) {
      unique.unshift({ kind: 'direct', url: relayUrl });
    }
    const lastGood = this.options.book?.lastGood(relayUrl) ?? this.lastWinner.get(relayUrl);
    const now = this.now();
    // A stall (an open connection going silent) is the signature of flow- or volume-based
    // blocking (the 16-20 KB freeze, rate policing that kills live tunnels): for a while after
    // one, routes that never keep a connection long (the tunnel) go before the others.
    const stallMode = (this.stalledAt.get(relayUrl) ?? -Infinity) > now - FAILURE_PENALTY_MS;
    const rank = (r: Route): number => {
      const l = routeLabel(r);
      const failed = (this.failedAt.get(l) ?? -Infinity) > now - FAILURE_PENALTY_MS;
      return (failed ? 8 : 0) + (this.isSlow(l) ? 4 : 0) + (stallMode && r.kind !== 'tunnel' ? 2 : 0) + (l === lastGood ? 0 : 1);
    };
    return unique.map((r, i) => ({ r, i, k: rank(r) })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => x.r);
  }

  private readonly lastWinner = new Map<string, string>();
  private readonly stalledAt = new Map<string, number>();
  /** Routes left because another answered clearly sooner (label -> when, rate), see SLOW_MEMORY_MS. */
  private readonly slowAt = new Map<string, { readonly at: number; readonly rateBps: number }>();
  /** Per relay: when the next background look may start and the back-off after it. */
  private readonly recheck = new Map<string, { nextAt: number; backoffMs: number }>();
  private readonly probing = new Set<string>();
  private readonly parked = new Map<string, ParkedRoute[]>();
  /** Per relay: the reason shown in the status (and when it was set). */
  private readonly notes = new Map<string, { readonly text: string; readonly at: number; readonly slowRoute: string }>();

  private isSlow(label: string): boolean {
    const s = this.slowAt.get(label);
    return s !== undefined && s.at > this.now() - SLOW_MEMORY_MS;
  }

  private setStatus(relayUrl: string, phase: RacerPhase, route?: string): void {
    const prev = this.statuses.get(relayUrl);
    const note = this.notes.get(relayUrl);
    const reason = note !== undefined && note.at > this.now() - SLOW_MEMORY_MS ? note.text : undefined;
    if (prev !== undefined && prev.phase === phase && prev.route === route && prev.reason === reason) return;
    const s: RacerStatus = {
      relayUrl,
      phase,
      ...(route !== undefined ? { route } : {}),
      since: prev !== undefined && prev.phase === phase && prev.route === route ? prev.since : this.now(),
      ...(reason !== undefined ? { reason } : {}),
    };
    this.statuses.set(relayUrl, s);
    for (const fn of this.listeners) fn(s);
  }

  private setNote(relayUrl: string, slowRoute: string, text: string): void {
    this.notes.set(relayUrl, { text, at: this.now(), slowRoute });
    const s = this.statuses.get(relayUrl);
    if (s !== undefined) this.setStatus(relayUrl, s.phase, s.route);
  }

  /** May a background look for a faster route start now (one per relay at a time, backed off)? */
  private mayLook(relayUrl: string): boolean {
    if (this.probing.has(relayUrl)) return false;
    const r = this.recheck.get(relayUrl);
    return r === undefined || this.now() >= r.nextAt;
  }

  private lookedWithoutSwitch(relayUrl: string): void {
    const r = this.recheck.get(relayUrl);
    const waitMs = r === undefined ? THROTTLE_RECHECK_MS : Math.min(THROTTLE_RECHECK_MAX_MS, r.backoffMs * 2);
    this.recheck.set(relayUrl, { nextAt: this.now() + waitMs, backoffMs: waitMs });
  }

  /** Keeps a probed connection for the SDK's reconnect (closed if not taken in PARKED_TTL_MS). */
  private park(relayUrl: string, p: ParkedRoute): void {
    const list = this.parked.get(relayUrl) ?? [];
    list.push(p);
    this.parked.set(relayUrl, list);
    const t = setTimeout(() => {
      const l = this.parked.get(relayUrl);
      const i = l?.indexOf(p) ?? -1;
      if (l !== undefined && i >= 0) {
        l.splice(i, 1);
        p.discard();
      }
    }, PARKED_TTL_MS);
    t.unref?.();
  }

  private takeParked(relayUrl: string): ParkedRoute | undefined {
    const list = this.parked.get(relayUrl);
    while (list !== undefined && list.length > 0) {
      const p = list.shift()!;
      if (p.alive) return p;
    }
    return undefined;
  }

  private emit(relayUrl: string, route: string, outcome: AttemptEvent['outcome'], detail?: string): void {
    this.options.onAttempt?.({ relayUrl, route, outcome, at: this.now(), ...(detail !== undefined ? { detail } : {}) });
  }

  /** Records an attempt to a destination unless its per-minute budget is spent. */
  private takeAttemptSlot(destination: string): boolean {
    const now = this.now();
    const recent = (this.attemptsAt.get(destination) ?? []).filter((t) => t > now - RATE_WINDOW_MS);
    if (recent.length >= (this.options.maxAttemptsPerMinute ?? DEFAULT_MAX_ATTEMPTS_PER_MINUTE)) {
      this.attemptsAt.set(destination, recent);
      return false;
    }
    recent.push(now);
    this.attemptsAt.set(destination, recent);
    return true;
  }

  private markLive(relayUrl: string, label: string, on: boolean): void {
    let set = this.live.get(relayUrl);
    if (set === undefined) this.live.set(relayUrl, (set = new Set()));
    if (on) set.add(label);
    else set.delete(label);
  }

  private race(relayUrl: string, handlers: SocketHandlers): RelaySocket {
    const queue = this.candidates(relayUrl);
    const attempts = new Set<Attempt>();
    const stagger = Math.min(MAX_STAGGER_MS, Math.max(MIN_STAGGER_MS, this.options.staggerMs ?? DEFAULT_STAGGER_MS));
    const maxConcurrent = Math.max(1, this.options.maxConcurrentAttempts ?? DEFAULT_MAX_CONCURRENT_ATTEMPTS);
    const attemptTimeout = this.options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    let winner: Attempt | undefined;
    let finished = false;
    let closedByOwner = false;
    let staggerTimer: ReturnType<typeof setTimeout> | undefined;
    const replyTimeout = this.options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    let awaitingSince: number | undefined;
    let bytesAwaiting = 0;
    let watchdog: ReturnType<typeof setInterval> | undefined;
    const stopWatchdog = () => {
      if (watchdog !== undefined) clearInterval(watchdog);
      watchdog = undefined;
      stopThroughputWatchdog();
    };
    // Throughput watchdog state (docs/transport.md "Leaving a slow route").
    const leaveSlow = this.options.leaveSlowRoutes !== false;
    let meter: RouteMeter | undefined;
    let throughputTimer: ReturnType<typeof setInterval> | undefined;
    let probe: Probe | undefined;
    let candidate: ParkedRoute | undefined;
    let verdict: MeterVerdict | undefined;
    let livePingAt = 0;
    let livePongAt: number | undefined;
    // A new id per look: a late pong from an earlier look must not end this one's measurement.
    let livePingId = 0;
    let switching = false;
    let decideTimer: ReturnType<typeof setTimeout> | undefined;
    let standby: { readonly route: ParkedRoute; readonly until: number } | undefined;
    const dropStandby = () => {
      standby?.route.discard();
      standby = undefined;
    };
    const kbps = (bps: number) => `${Math.round(bps / 1000)} kbit/s`;
    const endProbe = (keepCandidate: boolean) => {
      if (decideTimer !== undefined) clearTimeout(decideTimer);
      decideTimer = undefined;
      // (a settled probe has closed its other candidates; cancel would also close the kept one)
      if (!keepCandidate) probe?.cancel();
      probe = undefined;
      if (!keepCandidate) candidate?.discard();
      candidate = undefined;
      this.probing.delete(relayUrl);
    };
    const stopThroughputWatchdog = () => {
      if (throughputTimer !== undefined) clearInterval(throughputTimer);
      throughputTimer = undefined;
      if (probe !== undefined || candidate !== undefined) endProbe(false);
      dropStandby();
    };
    const keep = (why: string) => {
      const w = winner;
      endProbe(false);
      this.lookedWithoutSwitch(relayUrl);
      if (w === undefined || verdict === undefined) return;
      this.emit(relayUrl, w.label, 'kept', why);
      this.setNote(relayUrl, w.label, `${w.label} throttled to ${kbps(verdict.rateBps)}; no faster route`);
    };
    /** Hands the SDK over to the measured candidate: this connection closes, its reconnect takes the parked one. */
    const switchTo = (p: ParkedRoute, liveRttMs: number) => {
      const w = winner;
      if (w === undefined || verdict === undefined) return;
      endProbe(true);
      this.recheck.delete(relayUrl);
      // Only a route that measurably lost to another at the same moment is remembered as slow: a
      // verdict alone can be the relay's own hiccup (seen: 1 s without answers on a healthy bridge).
      this.slowAt.set(w.label, { at: this.now(), rateBps: verdict.rateBps });
      this.emit(relayUrl, w.label, 'switched', `to ${p.label}: ${kbps(verdict.rateBps)}; a ping took ${liveRttMs} ms here, ${p.rttMs} ms there`);
      this.setNote(relayUrl, w.label, `left ${w.label}: throttled to ${kbps(verdict.rateBps)}`);
      this.park(relayUrl, p);
      this.markLive(relayUrl, w.label, false);
      switching = true;
      finished = true;
      stopWatchdog();
      w.socket?.close(1000, 'route switch');
      // The outbox resends what was unacknowledged (the relay dedupes by message id) and the relay
      // redelivers what we had not acked (the client dedupes by content id): no loss, no duplicates.
      handlers.onClose(ROUTE_SWITCH_CLOSE_CODE, ROUTE_SWITCH_REASON);
    };
    /** Compares the candidate's ping with the live route's ping sent at the same moment. */
    const decide = () => {
      if (candidate === undefined) return;
      if (!candidate.alive) return keep('the candidate closed');
      const needMs = Math.max(SWITCH_RTT_FACTOR * candidate.rttMs, candidate.rttMs + SWITCH_MIN_GAIN_MS);
      const liveMs = (livePongAt ?? this.now()) - livePingAt;
      if (liveMs >= needMs) switchTo(candidate, liveMs);
      else if (livePongAt !== undefined && liveMs < MIN_LOADED_RTT_MS) {
        // The backlog drained before the comparison: it says nothing. Keep the candidate warm.
        const c = candidate;
        endProbe(true);
        dropStandby();
        standby = { route: c, until: this.now() + STANDBY_MS };
        this.emit(relayUrl, c.label, 'kept', `standby: the backlog drained (a ping took ${liveMs} ms on the live route, ${c.rttMs} ms here)`);
      } else if (livePongAt !== undefined) keep(`not clearly faster: a ping took ${liveMs} ms here, ${candidate.rttMs} ms on ${candidate.label}`);
      else {
        // The live ping is still out: decide the moment it has taken long enough (or its pong comes).
        if (decideTimer !== undefined) clearTimeout(decideTimer);
        decideTimer = setTimeout(decide, needMs - liveMs + 1);
        decideTimer.unref?.();
      }
    };
    const lookForFasterRoute = (w: Attempt) => {
      const others = this.candidates(relayUrl).filter((r) => {
        const l = routeLabel(r);
        return l !== w.label && !this.isSlow(l);
      });
      if (others.length === 0) return keep('no other route');
      this.probing.add(relayUrl);
      livePingAt = this.now();
      livePongAt = undefined;
      livePingId = (livePingId + 1) % 0x80;
      w.socket?.send(racerPing(LIVE_PING_INDEX + livePingId));
      if (standby !== undefined && standby.route.alive && this.now() < standby.until && !this.isSlow(standby.route.label)) {
        // A warm candidate: measure it again against the live route, no dialing.
        const warm = standby.route;
        standby = undefined;
        const again: Probe = {
          result: warm.remeasure(attemptTimeout).then((rtt) => {
            if (rtt !== undefined) this.emit(relayUrl, warm.label, 'probed', `rtt ${rtt} ms (standby)`);
            else warm.discard();
            return rtt !== undefined ? warm : undefined;
          }),
          cancel: () => warm.discard(),
        };
        probe = again;
        void again.result.then((p) => {
          if (probe !== again) return;
          if (p === undefined) return keep('the standby route stopped answering');
          candidate = p;
          decide();
        });
        return;
      }
      dropStandby();
      const started = probeRoutes(others, this.ctx, {
        staggerMs: stagger,
        maxConcurrent,
        attemptTimeoutMs: attemptTimeout,
        takeSlot: (r) => this.takeAttemptSlot(routeDestination(r)),
        report: (label, outcome, detail) => this.emit(relayUrl, label, outcome, detail),
      });
      probe = started;
      void started.result.then((p) => {
        if (probe !== started) {
          p?.discard();
          return;
        }
        if (p === undefined) return keep('no other route answered');
        candidate = p;
        decide();
      });
    };
    const startThroughputWatchdog = () => {
      if (!leaveSlow) return;
      throughputTimer = setInterval(() => {
        const w = winner;
        if (w === undefined || finished || meter === undefined) return;
        if (probe !== undefined || candidate !== undefined) return decide();
        const v = meter.judge();
        if (v === undefined || !v.slow) return;
        verdict = v;
        const detail = `${kbps(v.rateBps)} over ${v.busyMs} ms with data pending; replies ${Math.round(v.loadedRttMs)} ms vs ${v.baselineRttMs} ms idle`;
        this.emit(relayUrl, w.label, 'throttled', detail);
        // The status says nothing yet: a verdict is only a trigger (a busy relay or CPU can cause
        // one); what the user is told comes from the comparison (switched / no faster route).
        if (this.mayLook(relayUrl)) lookForFasterRoute(w);
      }, THROTTLE_CHECK_MS);
      throughputTimer.unref?.();
    };
    const startWatchdog = () => {
      if (replyTimeout <= 0) return;
      watchdog = setInterval(() => {
        if (winner === undefined || finished || awaitingSince === undefined) return;
        const allowance = replyTimeout + (bytesAwaiting / REPLY_WATCHDOG_MIN_RATE) * 1000;
        if (Date.now() - awaitingSince < allowance) return;
        // Stalled: tell the SDK the socket is gone (it reconnects with a fresh race at once).
        const w = winner;
        this.failedAt.set(w.label, this.now());
        this.stalledAt.set(relayUrl, this.now());
        this.markLive(relayUrl, w.label, false);
        this.emit(relayUrl, w.label, 'stalled', 'no reply');
        if ((this.live.get(relayUrl)?.size ?? 0) === 0) this.setStatus(relayUrl, 'connecting', w.label);
        stopWatchdog();
        finished = true;
        w.socket?.close(KEEPALIVE_CLOSE_CODE, 'stalled');
        handlers.onClose(KEEPALIVE_CLOSE_CODE, 'stalled');
      }, Math.max(250, Math.min(1_000, replyTimeout / 4)));
      watchdog.unref?.();
    };
    if (this.statuses.get(relayUrl)?.phase !== 'connected' || (this.live.get(relayUrl)?.size ?? 0) === 0) this.setStatus(relayUrl, 'connecting');

    const finish = (code: number, reason: string) => {
      if (finished) return;
      finished = true;
      stopWatchdog();
      if (staggerTimer !== undefined) clearTimeout(staggerTimer);
      for (const a of attempts) stopAttempt(a);
      handlers.onClose(code, reason);
    };
    const stopAttempt = (a: Attempt) => {
      a.done = true;
      if (a.timer !== undefined) clearTimeout(a.timer);
      a.socket?.close(1000, 'lost the race');
      attempts.delete(a);
    };
    const active = () => [...attempts].filter((a) => !a.done).length;
    const checkExhausted = () => {
      if (winner !== undefined || finished || queue.length > 0 || active() > 0) return;
      if ((this.live.get(relayUrl)?.size ?? 0) === 0) this.setStatus(relayUrl, 'no-route');
      finish(CLOSE_ABNORMAL, NO_ROUTE_REASON);
    };
    const failAttempt = (a: Attempt, outcome: 'failed' | 'timeout', detail?: string) => {
      if (a.done) return;
      this.failedAt.set(a.label, this.now());
      this.emit(relayUrl, a.label, outcome, detail);
      stopAttempt(a);
      launchNext();
      checkExhausted();
    };
    const scheduleStagger = () => {
      if (staggerTimer !== undefined) clearTimeout(staggerTimer);
      staggerTimer = undefined;
      if (queue.length === 0 || winner !== undefined || finished) return;
      staggerTimer = setTimeout(() => {
        staggerTimer = undefined;
        launchNext();
      }, stagger);
    };
    const launchNext = () => {
      while (winner === undefined && !finished && queue.length > 0 && active() < maxConcurrent) {
        const route = queue.shift()!;
        const label = routeLabel(route);
        if (!this.takeAttemptSlot(routeDestination(route))) {
          this.emit(relayUrl, label, 'rate-limited');
          continue;
        }
        launch(route, label);
        break;
      }
      scheduleStagger();
    };
    const launch = (route: Route, label: string) => {
      const a: Attempt = { route, label, socket: undefined, timer: undefined, done: false };
      attempts.add(a);
      this.emit(relayUrl, label, 'started');
      a.timer = setTimeout(() => failAttempt(a, 'timeout'), attemptTimeout);
      a.socket = openRoute(route, attemptHandlers(a), this.ctx);
    };
    const attemptHandlers = (a: Attempt): SocketHandlers => ({
      onOpen: () => undefined,
      onMessage: (data) => {
        if (winner === a) {
          awaitingSince = undefined;
          bytesAwaiting = 0;
          if (isRacerReply(data)) {
            // The racer's own ping on the live route (a background probe is comparing routes).
            if (replyIdOf(data) === RACER_PING_ID_BASE + LIVE_PING_INDEX + livePingId) {
              livePongAt = this.now();
              decide();
            }
            return;
          }
          meter?.received(data);
          handlers.onMessage(data);
        } else if (winner === undefined && !a.done && !finished) win(a, data);
      },
      onClose: (code, reason) => {
        if (winner === a) {
          if (switching) return;
          this.markLive(relayUrl, a.label, false);
          if (!closedByOwner && code !== 1000) this.failedAt.set(a.label, this.now());
          this.emit(relayUrl, a.label, 'lost', `${code} ${reason}`);
          if ((this.live.get(relayUrl)?.size ?? 0) === 0) this.setStatus(relayUrl, 'connecting', a.label);
          finish(code, reason);
        } else failAttempt(a, 'failed', `${code} ${reason}`);
      },
    });
    /** A connection a background probe measured for this relay: it wins at once, without dialing. */
    const adopt = (p: ParkedRoute) => {
      const a: Attempt = { route: p.route, label: p.label, socket: p.socket, timer: undefined, done: false };
      attempts.add(a);
      p.adopt(attemptHandlers(a));
      win(a, p.challenge);
    };
    const win = (a: Attempt, first: Uint8Array) => {
      winner = a;
      if (a.timer !== undefined) clearTimeout(a.timer);
      if (staggerTimer !== undefined) clearTimeout(staggerTimer);
      for (const other of [...attempts]) if (other !== a) stopAttempt(other);
      this.failedAt.delete(a.label);
      this.lastWinner.set(relayUrl, a.label);
      this.options.book?.setLastGood(relayUrl, a.label);
      this.markLive(relayUrl, a.label, true);
      this.emit(relayUrl, a.label, 'won');
      // "left X: throttled" stays while we are elsewhere; winning on X again ends it.
      const note = this.notes.get(relayUrl);
      if (note !== undefined && note.slowRoute === a.label && note.text.startsWith('left ')) this.notes.delete(relayUrl);
      this.setStatus(relayUrl, 'connected', a.label);
      meter = new RouteMeter(this.now);
      startWatchdog();
      startThroughputWatchdog();
      handlers.onOpen();
      handlers.onMessage(first);
    };

    // Start asynchronously so the caller has its RelaySocket before any handler runs.
    queueMicrotask(() => {
      if (finished) return;
      const parked = this.takeParked(relayUrl);
      if (parked !== undefined) return adopt(parked);
      launchNext();
      checkExhausted();
    });

    return {
      send: (data) => {
        if (winner !== undefined && !finished) {
          awaitingSince ??= Date.now();
          bytesAwaiting += data.length;
          meter?.sent(data);
          winner.socket?.send(data);
        }
      },
      close: (code, reason) => {
        closedByOwner = true;
        if (winner !== undefined && !finished) {
          if (code === KEEPALIVE_CLOSE_CODE) {
            // The SDK's keepalive found this route stalled: try others first next time.
            this.failedAt.set(winner.label, this.now());
            this.stalledAt.set(relayUrl, this.now());
            this.emit(relayUrl, winner.label, 'stalled');
          }
          this.markLive(relayUrl, winner.label, false);
          if ((this.live.get(relayUrl)?.size ?? 0) === 0) {
            this.setStatus(relayUrl, code === KEEPALIVE_CLOSE_CODE ? 'connecting' : 'idle', winner.label);
          }
          const s = winner.socket;
          finished = true;
          stopWatchdog();
          s?.close(code, reason);
          handlers.onClose(code ?? 1000, reason ?? 'closed');
          return;
        }
        finish(code ?? 1000, reason ?? 'closed');
      },
    };
  }
}
