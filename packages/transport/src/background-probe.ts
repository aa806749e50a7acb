/**
 * Background probe of other routes while the live one keeps carrying traffic (docs/transport.md
 * "Leaving a slow route"): open candidates happy-eyeballs style, keep the first on which the relay
 * speaks (its `challenge`), and measure its round trip with a few pings (allowed before auth,
 * docs/relay-api.md). The connection is then parked, unauthenticated and with its challenge unused,
 * so the racer can hand it to the SDK's next connection without dialing again, or discard it.
 */
import { encodeClientFrame } from '@pigeon/api';
import type { RelaySocket, SocketHandlers } from './channel.js';
import { replyIdOf } from './route-meter.js';
import { openRoute, routeLabel } from './routes.js';
import type { Route, RouteContext } from './routes.js';

/** Pings sent on a candidate; the median RTT is its measure (one ping can hit a scheduling hiccup). */
export const PROBE_PINGS = 3;
/**
 * Request ids the racer uses for its own pings. The SDK counts its ids up from 1 per connection,
 * so it never reaches these; replies to them are consumed by the racer, never shown to the SDK.
 */
export const RACER_PING_ID_BASE = 0xffff_ff00;

export function isRacerReply(frame: Uint8Array): boolean {
  const id = replyIdOf(frame);
  return id !== undefined && id >= RACER_PING_ID_BASE;
}

export function racerPing(n: number): Uint8Array {
  return encodeClientFrame({ type: 'ping', id: RACER_PING_ID_BASE + (n % 0x100) });
}

/** A candidate connection the relay has spoken on, measured and waiting to be used or dropped. */
export interface ParkedRoute {
  readonly route: Route;
  readonly label: string;
  /** Median ping RTT on the candidate, from the latest measurement (taken while the live route was loaded). */
  readonly rttMs: number;
  readonly challenge: Uint8Array;
  readonly socket: RelaySocket;
  /** False once the connection closed (a parked route dies like any other). */
  readonly alive: boolean;
  /** Pings it again (PROBE_PINGS); the median RTT, or undefined if it closed or did not answer in time. */
  remeasure(timeoutMs: number): Promise<number | undefined>;
  /** From now on the connection's frames and close go to `handlers` (the racer's winner path). */
  adopt(handlers: SocketHandlers): void;
  discard(): void;
}

export interface ProbeOptions {
  readonly staggerMs: number;
  readonly maxConcurrent: number;
  readonly attemptTimeoutMs: number;
  /** The per-destination politeness budget; false = skip this route. */
  takeSlot(route: Route): boolean;
  report(label: string, outcome: 'started' | 'failed' | 'timeout' | 'rate-limited' | 'probed', detail?: string): void;
}

export interface Probe {
  /** The measured candidate, or undefined when none answered. */
  readonly result: Promise<ParkedRoute | undefined>;
  cancel(): void;
}

interface Candidate {
  readonly route: Route;
  readonly label: string;
  socket: RelaySocket | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
  challenge: Uint8Array | undefined;
  pingSentAt: number;
  pings: number[];
  rttMs: number;
  onMeasured: ((rttMs: number | undefined) => void) | undefined;
  target: SocketHandlers | undefined;
  alive: boolean;
}

export function probeRoutes(routes: readonly Route[], ctx: RouteContext, options: ProbeOptions): Probe {
  const now = ctx.now ?? Date.now;
  const queue = [...routes];
  const open = new Set<Candidate>();
  let settled = false;
  let staggerTimer: ReturnType<typeof setTimeout> | undefined;
  let resolve!: (p: ParkedRoute | undefined) => void;
  const result = new Promise<ParkedRoute | undefined>((r) => (resolve = r));

  const settle = (p: ParkedRoute | undefined) => {
    if (settled) return;
    settled = true;
    if (staggerTimer !== undefined) clearTimeout(staggerTimer);
    for (const c of open) if (p === undefined || c.label !== p.label) drop(c);
    resolve(p);
  };
  const drop = (c: Candidate) => {
    c.done = true;
    if (c.timer !== undefined) clearTimeout(c.timer);
    c.socket?.close(1000, 'not needed');
    open.delete(c);
  };
  const fail = (c: Candidate, outcome: 'failed' | 'timeout', detail?: string) => {
    if (c.done) return;
    options.report(c.label, outcome, detail);
    drop(c);
    launchNext();
    if (!settled && queue.length === 0 && open.size === 0) settle(undefined);
  };
  const ping = (c: Candidate) => {
    c.pingSentAt = now();
    c.socket?.send(racerPing(c.pings.length));
  };
  /** PROBE_PINGS pings one after another; resolves with the median RTT (undefined: closed or too slow). */
  const measure = (c: Candidate, timeoutMs: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      if (!c.alive || c.done) return resolve(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (rtt: number | undefined) => {
        clearTimeout(timer);
        c.onMeasured = undefined;
        if (rtt !== undefined) c.rttMs = rtt;
        resolve(rtt);
      };
      c.onMeasured = finish;
      c.pings = [];
      ping(c);
    });
  const parkedOf = (c: Candidate): ParkedRoute => ({
    route: c.route,
    label: c.label,
    get rttMs() {
      return c.rttMs;
    },
    challenge: c.challenge!,
    socket: c.socket!,
    get alive() {
      return c.alive && !c.done;
    },
    remeasure: (timeoutMs) => measure(c, timeoutMs),
    adopt: (h) => {
      c.target = h;
    },
    discard: () => drop(c),
  });
  const launchNext = () => {
    if (staggerTimer !== undefined) clearTimeout(staggerTimer);
    staggerTimer = undefined;
    while (!settled && queue.length > 0 && [...open].filter((c) => c.challenge === undefined).length < options.maxConcurrent) {
      const route = queue.shift()!;
      const label = routeLabel(route);
      if (!options.takeSlot(route)) {
        options.report(label, 'rate-limited');
        continue;
      }
      launch(route, label);
      break;
    }
    if (!settled && queue.length > 0) staggerTimer = setTimeout(launchNext, options.staggerMs);
    if (!settled && queue.length === 0 && open.size === 0) settle(undefined);
  };
  const launch = (route: Route, label: string) => {
    const c: Candidate = {
      route,
      label,
      socket: undefined,
      timer: undefined,
      done: false,
      challenge: undefined,
      pingSentAt: 0,
      pings: [],
      rttMs: Number.POSITIVE_INFINITY,
      onMeasured: undefined,
      target: undefined,
      alive: true,
    };
    open.add(c);
    options.report(label, 'started', 'background');
    c.timer = setTimeout(() => fail(c, 'timeout'), options.attemptTimeoutMs);
    c.socket = openRoute(
      route,
      {
        onOpen: () => undefined,
        onMessage: (data) => {
          if (c.target !== undefined) {
            c.target.onMessage(data);
            return;
          }
          if (c.done) return;
          if (c.challenge === undefined) {
            // The first frame on a route is the relay's challenge: this candidate reaches the relay.
            if (settled) return drop(c);
            c.challenge = data;
            for (const other of [...open]) if (other !== c && other.challenge === undefined) drop(other);
            if (staggerTimer !== undefined) clearTimeout(staggerTimer);
            queue.length = 0;
            void measure(c, options.attemptTimeoutMs).then((rtt) => {
              if (c.timer !== undefined) clearTimeout(c.timer);
              if (rtt === undefined) return fail(c, 'timeout', 'no pong');
              options.report(c.label, 'probed', `rtt ${rtt} ms`);
              settle(parkedOf(c));
            });
            return;
          }
          if (!isRacerReply(data) || c.onMeasured === undefined) return;
          c.pings.push(now() - c.pingSentAt);
          if (c.pings.length < PROBE_PINGS) return ping(c);
          const sorted = [...c.pings].sort((a, b) => a - b);
          c.onMeasured(sorted[Math.floor(sorted.length / 2)]!);
        },
        onClose: (code, reason) => {
          c.alive = false;
          c.onMeasured?.(undefined);
          if (c.target !== undefined) {
            c.target.onClose(code, reason);
            return;
          }
          fail(c, 'failed', `${code} ${reason}`);
        },
      },
      ctx,
    );
  };

  queueMicrotask(launchNext);
  return {
    result,
    cancel: () => {
      for (const c of [...open]) if (c.target === undefined) drop(c);
      settle(undefined);
    },
  };
}
