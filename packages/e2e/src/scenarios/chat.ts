/**
 * SDK clients behind the lab censor, configured the way a real user's are: the relay's wss:// URL
 * from the invite (direct route), the routes of a bridge link added to the client's route book (as
 * `pigeon bridge add <link>` does, kept in the client store's transport state), the route racer as
 * the SDK's socket factory with the racer's recommended connection tuning, and every dial and
 * lookup going through the censor.
 */
import { join } from 'node:path';
import { defaultBackend } from '@pigeon/crypto';
import { PigeonClient, openSqliteStore } from '@pigeon/client';
import type { ConnectionTuning } from '@pigeon/client';
import type { Censor } from '@pigeon/lab';
import { RACER_CONNECTION_TUNING, RouteBook, RouteRacer, memoryRouteMemory, routesFromBridgeLink } from '@pigeon/transport';
import type { AttemptEvent, RacerOptions, RacerStatus, Route, RouteKind, RouteMemory } from '@pigeon/transport';
import { tempDir } from '../support/processes.js';
import type { World } from './world.js';

export interface Arrival {
  readonly text: string;
  readonly at: number;
}

export interface ChatUser {
  readonly name: string;
  /** The current client and racer (replaced by restart()). */
  readonly client: PigeonClient;
  readonly racer: RouteRacer;
  /** Incoming messages as the application saw them ('message' events), in event order. */
  readonly arrivals: Arrival[];
  readonly attempts: AttemptEvent[];
  readonly statuses: RacerStatus[];
  /**
   * Closes the app and opens it again on the same profile (a phone restart): a new racer whose
   * memory is the client store's, so it starts with the route that worked last. Reconnects.
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The direct route a user has from the invite link (the relay's own name, its CA for the lab). */
export function directRoute(world: World): Route {
  return { kind: 'direct', url: world.relayUrl, ca: world.relayCa };
}

/** A RouteMemory that writes through to the client store once the client exists. */
function lateBoundMemory(): { memory: RouteMemory; bind: (m: RouteMemory) => void } {
  const early = memoryRouteMemory();
  let target: RouteMemory | undefined;
  return {
    memory: {
      get: (k) => (target ?? early).get(k),
      set: (k, v) => (target ?? early).set(k, v),
    },
    bind: (m) => {
      for (const key of ['transport.routes', 'transport.last_good']) {
        const v = early.get(key);
        if (v !== undefined) m.set(key, v);
      }
      target = m;
    },
  };
}

export interface UserOptions {
  /** The address the censor sees this user at (several users behind one censor). */
  readonly clientIp: string;
  readonly racer?: Partial<RacerOptions>;
  readonly connection?: ConnectionTuning;
}

export async function openUser(name: string, world: World, censor: Censor, options: UserOptions): Promise<ChatUser> {
  const dir = tempDir(`user-${name}`);
  const attempts: AttemptEvent[] = [];
  const statuses: RacerStatus[] = [];
  const arrivals: Arrival[] = [];
  const open = async (): Promise<{ client: PigeonClient; racer: RouteRacer }> => {
    const late = lateBoundMemory();
    // The route list in the order a user gets it: the relay from the invite, then the bridge
    // link's routes. (Routes in a RouteBook are tried before `routes`, and a book cannot keep the
    // direct route's private CA, so all three are passed here; the book keeps the last good route
    // in the client store.)
    const racer = new RouteRacer({
      routes: [directRoute(world), ...routesFromBridgeLink(world.bridgeLink)],
      book: new RouteBook(late.memory),
      includeDirect: false,
      net: { dialer: censor.dialerFor(options.clientIp), resolver: censor.resolver },
      onAttempt: (e) => attempts.push(e),
      onStatus: (s) => statuses.push(s),
      ...options.racer,
    });
    const client = await PigeonClient.create({
      store: openSqliteStore(join(dir.path, 'pigeon.db')),
      crypto: defaultBackend(),
      socketFactory: racer.factory,
      connection: options.connection ?? RACER_CONNECTION_TUNING,
      connectTimeoutMs: 30_000,
    });
    late.bind(client.transportState());
    client.on('message', (m) => {
      if (m.direction === 'in') arrivals.push({ text: m.text, at: Date.now() });
    });
    return { client, racer };
  };
  let current = await open();
  return {
    name,
    get client() {
      return current.client;
    },
    get racer() {
      return current.racer;
    },
    arrivals,
    attempts,
    statuses,
    async restart() {
      await current.client.close();
      current = await open();
      await current.client.connect({ timeoutMs: 60_000 }).catch(() => undefined);
    },
    async close() {
      await current.client.close();
      dir.remove();
    },
  };
}

/** Both register on the relay (through the censor) and become contacts; returns bob's id at alice. */
export async function befriend(alice: ChatUser, bob: ChatUser, relayUrl: string): Promise<string> {
  await alice.client.init({ relayUrl, displayName: 'Alice' });
  await bob.client.init({ relayUrl, displayName: 'Bob' });
  await alice.client.connect();
  await bob.client.connect();
  const { link } = await alice.client.createInvite();
  const contactSeen = new Promise<string>((resolve) => {
    const off = alice.client.on('contact', (c) => {
      off();
      resolve(c.id);
    });
  });
  await bob.client.acceptInvite(link);
  await bob.client.flush(30_000);
  return contactSeen;
}

/** Waits (event-driven, with a fail-safe) until `user` has seen `count` incoming messages. */
export async function waitForArrivals(user: ChatUser, count: number, timeoutMs: number, explain: () => string): Promise<void> {
  if (user.arrivals.length >= count) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${user.name}: only ${user.arrivals.length}/${count} messages arrived within ${timeoutMs} ms\n${explain()}`));
    }, timeoutMs);
    const off = user.client.on('message', () => {
      if (user.arrivals.length < count) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** The kind of route a label names ('bridge 127.0.0.1:4433 (pin ...)' -> 'bridge'). */
export function kindOf(label: string | undefined): RouteKind | undefined {
  const k = label?.split(' ')[0];
  return k === 'direct' || k === 'bridge' || k === 'tunnel' || k === 'fronted' ? k : undefined;
}

/** The route of the user's most recent winning attempt (the one carrying its traffic now). */
export function currentRoute(user: ChatUser): string | undefined {
  for (let i = user.attempts.length - 1; i >= 0; i--) {
    const a = user.attempts[i]!;
    if (a.outcome === 'won') return a.route;
  }
  return undefined;
}

/** One line per racer attempt since `since` (ms since the epoch), for failure messages and logs. */
export function describeAttempts(user: ChatUser, since: number): string {
  return user.attempts
    .filter((a) => a.at >= since)
    .map((a) => `  ${user.name} +${a.at - since} ms ${a.outcome} ${a.route}${a.detail !== undefined ? ` (${a.detail})` : ''}`)
    .join('\n');
}
