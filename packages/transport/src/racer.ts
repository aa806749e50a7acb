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
 */
import { defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { CLOSE_ABNORMAL } from './channel.js';
import type { RelaySocket, SocketFactory, SocketHandlers } from './channel.js';
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
}

export interface AttemptEvent {
  readonly relayUrl: string;
  readonly route: string;
  readonly outcome: 'started' | 'won' | 'failed' | 'timeout' | 'rate-limited' | 'lost' | 'stalled';
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
      return (failed ? 4 : 0) + (stallMode && r.kind !== 'tunnel' ? 2 : 0) + (l === lastGood ? 0 : 1);
    };
    return unique.map((r, i) => ({ r, i, k: rank(r) })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => x.r);
  }

  private readonly lastWinner = new Map<string, string>();
  private readonly stalledAt = new Map<string, number>();

  private setStatus(relayUrl: string, phase: RacerPhase, route?: string): void {
    const prev = this.statuses.get(relayUrl);
    if (prev !== undefined && prev.phase === phase && prev.route === route) return;
    const s: RacerStatus = { relayUrl, phase, ...(route !== undefined ? { route } : {}), since: this.now() };
    this.statuses.set(relayUrl, s);
    for (const fn of this.listeners) fn(s);
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
      a.socket = openRoute(
        route,
        {
          onOpen: () => undefined,
          onMessage: (data) => {
            if (winner === a) {
              awaitingSince = undefined;
              bytesAwaiting = 0;
              handlers.onMessage(data);
            }
            else if (winner === undefined && !a.done && !finished) win(a, data);
          },
          onClose: (code, reason) => {
            if (winner === a) {
              this.markLive(relayUrl, label, false);
              if (!closedByOwner && code !== 1000) this.failedAt.set(label, this.now());
              this.emit(relayUrl, label, 'lost', `${code} ${reason}`);
              if ((this.live.get(relayUrl)?.size ?? 0) === 0) this.setStatus(relayUrl, 'connecting', label);
              finish(code, reason);
            } else failAttempt(a, 'failed', `${code} ${reason}`);
          },
        },
        this.ctx,
      );
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
      this.setStatus(relayUrl, 'connected', a.label);
      startWatchdog();
      handlers.onOpen();
      handlers.onMessage(first);
    };

    // Start asynchronously so the caller has its RelaySocket before any handler runs.
    queueMicrotask(() => {
      if (!finished) launchNext();
      checkExhausted();
    });

    return {
      send: (data) => {
        if (winner !== undefined && !finished) {
          awaitingSince ??= Date.now();
          bytesAwaiting += data.length;
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
