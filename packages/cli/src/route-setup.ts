/**
 * How the CLI reaches relays: when the profile knows routes (bridges, proxies, fronts: `pigeon
 * bridge add`, invite links), the SDK's socket is the route racer with the racer's keepalive
 * tuning; otherwise the plain direct WebSocket, exactly as before. Routes and the last route that
 * worked live in the profile's state table (PigeonClient.transportState()).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, MAX_INVITE_ROUTES, PigeonClient, decodeInviteLink, encodeInviteLink, nodeSocketFactory, openSqliteStore } from '@pigeon/client';
import type { Logger, SocketFactory } from '@pigeon/client';
import { RACER_CONNECTION_TUNING, ROUTES_KEY, RouteBook, RouteRacer, encodeBridgeLink, routesFromBridgeLink } from '@pigeon/transport';
import type { RacerStatus } from '@pigeon/transport';

const racers = new WeakMap<PigeonClient, RouteRacer>();

/** True when the profile has routes configured (read before opening, to choose the tuning). */
function profileHasRoutes(home: string): boolean {
  const file = join(home, DATABASE_FILE);
  if (!existsSync(file)) return false;
  const store = openSqliteStore(file);
  try {
    const raw = store.getState(ROUTES_KEY);
    return raw !== undefined && raw !== '[]';
  } finally {
    store.close();
  }
}

export async function openRoutedClient(home: string, connectTimeoutMs: number | undefined, logger: Logger | undefined): Promise<PigeonClient> {
  const routed = profileHasRoutes(home);
  let racer: RouteRacer | undefined;
  // The factory is read when a connection is made, after open(): the racer needs the store.
  // With no routes configured each connection uses the plain socket and the SDK keeps its own
  // keepalive tuning: nothing changes. Routes added while running (an accepted invite carrying
  // bridges) are raced from the next connection on.
  let book: RouteBook | undefined;
  const factory: SocketFactory = (url, handlers) =>
    (racer !== undefined && book !== undefined && book.routes().length > 0 ? racer.factory : nodeSocketFactory)(url, handlers);
  const client = await PigeonClient.open({
    home,
    connectTimeoutMs,
    logger,
    socketFactory: factory,
    ...(routed ? { connection: RACER_CONNECTION_TUNING } : {}),
  });
  book = new RouteBook(client.transportState());
  racer = new RouteRacer({
    book,
    ...(logger !== undefined ? { onAttempt: (e) => logger('route.attempt', { route: e.route, outcome: e.outcome }) } : {}),
  });
  racers.set(client, racer);
  return client;
}

export function racerOf(client: PigeonClient): RouteRacer | undefined {
  return racers.get(client);
}

/** True when the profile knows routes beyond the direct one. */
export function hasRoutes(client: PigeonClient): boolean {
  return routeBookOf(client).routes().length > 0;
}

export function routeBookOf(client: PigeonClient): RouteBook {
  return new RouteBook(client.transportState());
}

/** "connected via X" / "connecting" / "no route, 3 queued": what the UI shows. */
export function describeConnection(client: PigeonClient): { state: string; route?: string; reason?: string; queued: number; text: string } {
  const queued = client.isInitialized() ? client.outboxSize() : 0;
  const status: RacerStatus | undefined = racerOf(client)?.status();
  // (the racer only names routes once the profile has more than the direct one)
  const conn = client.connectionState();
  const q = queued > 0 ? `, ${queued} queued` : '';
  if (conn === 'connected') {
    const via = status?.phase === 'connected' && status.route !== undefined ? status.route : `direct ${client.profile().relayUrl}`;
    // Why the racer left (or stays on) a slow route: "left direct ...: throttled to 120 kbit/s".
    const why = status?.phase === 'connected' && status.reason !== undefined ? status.reason : undefined;
    return { state: 'connected', route: via, ...(why !== undefined ? { reason: why } : {}), queued, text: `connected via ${via}${q}${why !== undefined ? ` (${why})` : ''}` };
  }
  if (status?.phase === 'no-route') return { state: 'no-route', queued, text: `no route to the relay${q}` };
  return { state: conn === 'connecting' ? 'connecting' : 'offline', queued, text: `${conn === 'connecting' ? 'connecting' : 'offline'}${q}` };
}

/** Links of the bridges this profile uses for its own relay (deduplicated, newest last). */
export function bridgeLinksOf(client: PigeonClient): string[] {
  const relayUrl = client.profile().relayUrl;
  const links = new Set<string>();
  for (const r of routeBookOf(client).routes()) {
    if ((r.kind === 'bridge' || r.kind === 'tunnel') && r.proxy === undefined && r.bridge.relayUrl === relayUrl) links.add(encodeBridgeLink(r.bridge));
  }
  return [...links].slice(-MAX_INVITE_ROUTES);
}

/** The invite link with bridge links added (the invite codec's routes extension). */
export function withBridges(inviteLink: string, bridgeLinks: readonly string[]): string {
  if (bridgeLinks.length === 0) return inviteLink;
  return encodeInviteLink({ ...decodeInviteLink(inviteLink), routes: bridgeLinks });
}

/** Stores the bridge routes an invite carries; returns how many routes were new. */
export function rememberInviteBridges(client: PigeonClient, inviteLink: string): number {
  const invite = decodeInviteLink(inviteLink);
  const book = routeBookOf(client);
  let added = 0;
  for (const link of invite.routes ?? []) {
    try {
      added += book.add(routesFromBridgeLink(link)).length;
    } catch {
      // a damaged or unknown route in an invite is ignored; the invite itself still works
    }
  }
  return added;
}
