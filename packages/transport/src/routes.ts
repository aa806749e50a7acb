/**
 * Route kinds and how each becomes a frame channel (docs/transport.md "Routes"). A route is data
 * (persistable as JSON, shown to the user by `routeLabel`); `openRoute` turns it into a RelaySocket.
 *
 * - direct:  WebSocket (ws:// or wss://) straight to the relay, the default single route.
 * - bridge:  TLS (pinned certificate, innocuous or no SNI) + WebSocket to a `pigeon bridge`,
 *            authenticated by a fresh HMAC token in a cookie.
 * - tunnel:  the same bridge reached by many short HTTPS exchanges (tunnel-client.ts), so no
 *            connection carries more than a few KB (the 16-20 KB freeze, rate policing).
 * - fronted: TLS to a front (SNI = front), HTTP Host = the hidden relay; a CDN that routes by
 *            Host carries it. A bridge link with `front` set fronts its bridge/tunnel routes too.
 * Any route may go through a proxy (socks5/socks5h/http CONNECT): a local Tor client is one.
 */
import { isIP } from 'node:net';
import type { CryptoBackend } from '@pigeon/crypto';
import { toHex } from '@pigeon/crypto';
import { AUTH_COOKIE, mintAuthToken } from './bridge-auth.js';
import { decodeBridgeLink, encodeBridgeLink } from './bridge-link.js';
import type { BridgeInfo } from './bridge-link.js';
import { FETCH_ALPN, WEBSOCKET_ALPN } from './browser-tls.js';
import type { RelaySocket, SocketHandlers } from './channel.js';
import { TransportError } from './errors.js';
import { formatProxyUrl, parseProxyUrl } from './proxy.js';
import type { ProxySpec } from './proxy.js';
import type { NetSeams } from './seams.js';
import type { StepReport, StreamPlan } from './stream.js';
import { openTunnelChannel } from './tunnel-client.js';
import type { TunnelTuning } from './tunnel-client.js';
import { openWebSocketChannel } from './ws-channel.js';

export type Route =
  | { readonly kind: 'direct'; readonly url: string; readonly pinSha256?: string; readonly ca?: string; readonly proxy?: ProxySpec }
  | { readonly kind: 'bridge'; readonly bridge: BridgeInfo; readonly proxy?: ProxySpec }
  | { readonly kind: 'tunnel'; readonly bridge: BridgeInfo; readonly proxy?: ProxySpec }
  | {
      readonly kind: 'fronted';
      readonly url: string;
      readonly front: string;
      readonly frontPort?: number;
      /** For a front with a self-signed certificate (tests, a friend's server); CDNs need none. */
      readonly pinSha256?: string;
      readonly proxy?: ProxySpec;
    };

export type RouteKind = Route['kind'];

/** JSON form kept in the client store (bridges as their links; proxies as URLs). */
export type RouteRecord =
  | { readonly kind: 'direct'; readonly url: string; readonly pinSha256?: string; readonly proxy?: string }
  | { readonly kind: 'bridge' | 'tunnel'; readonly link: string; readonly proxy?: string }
  | { readonly kind: 'fronted'; readonly url: string; readonly front: string; readonly frontPort?: number; readonly pinSha256?: string; readonly proxy?: string };

export function routeToRecord(route: Route): RouteRecord {
  const proxy = route.proxy !== undefined ? { proxy: formatProxyUrl(route.proxy) } : {};
  switch (route.kind) {
    case 'direct':
      return { kind: 'direct', url: route.url, ...(route.pinSha256 !== undefined ? { pinSha256: route.pinSha256 } : {}), ...proxy };
    case 'bridge':
    case 'tunnel':
      return { kind: route.kind, link: encodeBridgeLink(route.bridge), ...proxy };
    case 'fronted':
      return {
        kind: 'fronted',
        url: route.url,
        front: route.front,
        ...(route.frontPort !== undefined ? { frontPort: route.frontPort } : {}),
        ...(route.pinSha256 !== undefined ? { pinSha256: route.pinSha256 } : {}),
        ...proxy,
      };
  }
}

export function routeFromRecord(record: unknown): Route {
  const r = record as Partial<Record<string, unknown>> | null;
  if (typeof r !== 'object' || r === null) throw new TransportError('BAD_ROUTE', 'route record is not an object');
  const proxy = typeof r.proxy === 'string' ? { proxy: parseProxyUrl(r.proxy) } : {};
  switch (r.kind) {
    case 'direct':
      if (typeof r.url !== 'string') break;
      parseWsUrl(r.url);
      return { kind: 'direct', url: r.url, ...(typeof r.pinSha256 === 'string' ? { pinSha256: r.pinSha256 } : {}), ...proxy };
    case 'bridge':
    case 'tunnel':
      if (typeof r.link !== 'string') break;
      return { kind: r.kind, bridge: decodeBridgeLink(r.link), ...proxy };
    case 'fronted':
      if (typeof r.url !== 'string' || typeof r.front !== 'string') break;
      parseWsUrl(r.url);
      return {
        kind: 'fronted',
        url: r.url,
        front: r.front,
        ...(typeof r.frontPort === 'number' ? { frontPort: r.frontPort } : {}),
        ...(typeof r.pinSha256 === 'string' ? { pinSha256: r.pinSha256 } : {}),
        ...proxy,
      };
    default:
      break;
  }
  throw new TransportError('BAD_ROUTE', 'unknown or incomplete route record');
}

/** The routes a bridge link gives: its WebSocket route first, then its tunnel. */
export function routesFromBridgeLink(link: string, proxy?: ProxySpec): Route[] {
  const bridge = decodeBridgeLink(link);
  const p = proxy !== undefined ? { proxy } : {};
  return [
    { kind: 'bridge', bridge, ...p },
    { kind: 'tunnel', bridge, ...p },
  ];
}

/** The relay URL a route reaches (the racer only uses a route for its own relay). */
export function routeRelayUrl(route: Route): string {
  return route.kind === 'bridge' || route.kind === 'tunnel' ? route.bridge.relayUrl : route.url;
}

function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** A short, stable, secret-free name for UI, logs and the "last good route" memory. */
export function routeLabel(route: Route): string {
  const via = route.proxy !== undefined ? ` via ${route.proxy.kind}://${hostPort(route.proxy.host, route.proxy.port)}` : '';
  switch (route.kind) {
    case 'direct':
      return `direct ${route.url}${via}`;
    case 'bridge':
    case 'tunnel': {
      const b = route.bridge;
      const front = b.front !== undefined ? ` fronted by ${b.front}` : '';
      return `${route.kind} ${hostPort(b.host, b.port)}${front} (pin ${toHex(b.certSha256).slice(0, 8)})${via}`;
    }
    case 'fronted':
      return `fronted ${route.front} -> ${parseWsUrl(route.url).host}${via}`;
  }
}

/** The destination a route dials (for per-destination rate limits): the proxy when there is one. */
export function routeDestination(route: Route): string {
  if (route.proxy !== undefined) return hostPort(route.proxy.host, route.proxy.port);
  switch (route.kind) {
    case 'direct': {
      const u = parseWsUrl(route.url);
      return hostPort(u.hostname, u.port);
    }
    case 'bridge':
    case 'tunnel':
      return hostPort(route.bridge.front ?? route.bridge.host, route.bridge.port);
    case 'fronted':
      return hostPort(route.front, route.frontPort ?? 443);
  }
}

export interface ParsedWsUrl {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  /** Host header value: host[:port] with the port only when it is not the scheme default. */
  readonly host: string;
  readonly path: string;
}

export function parseWsUrl(text: string): ParsedWsUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new TransportError('BAD_ROUTE', 'relay URL is not a URL', { cause });
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TransportError('BAD_ROUTE', 'relay URL must be ws:// or wss://');
  const secure = url.protocol === 'wss:';
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (secure ? 443 : 80));
  return { secure, hostname, port, host: url.host, path: `${url.pathname}${url.search}` };
}

export interface RouteContext {
  readonly net: NetSeams;
  readonly crypto: CryptoBackend;
  readonly now?: () => number;
  readonly onStep?: (report: StepReport) => void;
  readonly stepTimeoutMs?: number;
  readonly tunnel?: TunnelTuning;
  readonly localAddress?: string;
}

/** Where a bridge route's TCP goes and what its ClientHello says (fronting honoured). */
export function bridgeStreamPlan(b: BridgeInfo, alpn: readonly string[], proxy: ProxySpec | undefined, stepTimeoutMs: number | undefined): StreamPlan {
  const servername = b.front ?? b.sni;
  return {
    host: b.front ?? b.host,
    port: b.port,
    ...(proxy !== undefined ? { proxy } : {}),
    // When fronted, the pin still applies if the front is the bridge itself; a real CDN front has
    // its own certificate, so fronting through a CDN uses the normal chain check instead.
    tls: {
      ...(servername !== undefined ? { servername } : {}),
      ...(b.front === undefined || b.front === b.host ? { pinSha256: toHex(b.certSha256) } : {}),
      alpn,
    },
    ...(stepTimeoutMs !== undefined ? { stepTimeoutMs } : {}),
  };
}

export function bridgeHostHeader(b: BridgeInfo): string {
  return b.port === 443 ? (isIP(b.host) === 6 ? `[${b.host}]` : b.host) : hostPort(b.host, b.port);
}

/** Opens the frame channel for a route. Never throws: failures arrive as onClose. */
export function openRoute(route: Route, handlers: SocketHandlers, ctx: RouteContext): RelaySocket {
  const now = ctx.now ?? Date.now;
  const channelOpts = {
    net: ctx.net,
    ...(ctx.onStep !== undefined ? { onStep: ctx.onStep } : {}),
    ...(ctx.localAddress !== undefined ? { localAddress: ctx.localAddress } : {}),
  };
  switch (route.kind) {
    case 'direct':
    case 'fronted': {
      const prepare = async () => {
        const u = parseWsUrl(route.url);
        const front = route.kind === 'fronted' ? route.front : undefined;
        const plan: StreamPlan = {
          host: front ?? u.hostname,
          port: route.kind === 'fronted' ? (route.frontPort ?? 443) : u.port,
          ...(route.proxy !== undefined ? { proxy: route.proxy } : {}),
          ...(u.secure || front !== undefined
            ? {
                tls: {
                  servername: front ?? u.hostname,
                  alpn: WEBSOCKET_ALPN,
                  ...(route.pinSha256 !== undefined ? { pinSha256: route.pinSha256 } : {}),
                  ...(route.kind === 'direct' && route.ca !== undefined ? { ca: route.ca } : {}),
                },
              }
            : {}),
          ...(ctx.stepTimeoutMs !== undefined ? { stepTimeoutMs: ctx.stepTimeoutMs } : {}),
        };
        return { plan, hostHeader: u.host, path: u.path };
      };
      return openWebSocketChannel(prepare, handlers, channelOpts);
    }
    case 'bridge': {
      const b = route.bridge;
      const prepare = async () => {
        const token = await mintAuthToken(ctx.crypto, b.secret, 'websocket', now());
        return {
          plan: bridgeStreamPlan(b, WEBSOCKET_ALPN, route.proxy, ctx.stepTimeoutMs),
          hostHeader: bridgeHostHeader(b),
          path: b.path,
          headers: { Cookie: `${AUTH_COOKIE}=${token}` },
        };
      };
      return openWebSocketChannel(prepare, handlers, channelOpts);
    }
    case 'tunnel':
      return openTunnelChannel(route.bridge, handlers, {
        ...channelOpts,
        crypto: ctx.crypto,
        now,
        plan: bridgeStreamPlan(route.bridge, FETCH_ALPN, route.proxy, ctx.stepTimeoutMs),
        ...(ctx.tunnel !== undefined ? { tuning: ctx.tunnel } : {}),
      });
  }
}
