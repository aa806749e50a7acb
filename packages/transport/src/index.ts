/**
 * @pigeon/transport: ways through a censor (Node only). Routes (direct WebSocket, bridge, tunnel,
 * domain fronting, any of them through a SOCKS5/HTTP proxy), the racer that picks one, bridge links
 * and bridge authentication, and the step-by-step route probe behind `pigeon doctor`.
 * See CONTEXT.md and docs/transport.md.
 */
export { TRANSPORT_ERROR_CODES, TransportError } from './errors.js';
export type { TransportErrorCode } from './errors.js';
export { realDialer, realResolver, realNet, DEFAULT_DIAL_TIMEOUT_MS } from './seams.js';
export type { Dialer, Resolver, DialOptions, NetSeams } from './seams.js';
export { PendingSocket } from './pending-socket.js';
export { CLOSE_ABNORMAL } from './channel.js';
export type { SocketFactory, SocketHandlers, RelaySocket } from './channel.js';
export {
  BROWSER_CIPHERS,
  BROWSER_CURVES,
  BROWSER_SIGALGS,
  BROWSER_USER_AGENT,
  WEBSOCKET_ALPN,
  FETCH_ALPN,
  browserTlsOptions,
} from './browser-tls.js';
export { openStream, wrapTls, normalizePin } from './stream.js';
export type { StreamPlan, TlsPlan, StepName, StepReport, OpenOptions } from './stream.js';
export { parseProxyUrl, formatProxyUrl, socks5Handshake, httpConnectHandshake, MAX_PROXY_REPLY_BYTES } from './proxy.js';
export type { ProxySpec, ProxyKind } from './proxy.js';
export {
  encodeBridgeLink,
  decodeBridgeLink,
  BRIDGE_LINK_PREFIX,
  BRIDGE_LINK_VERSION,
  BRIDGE_SECRET_BYTES,
  CERT_PIN_BYTES,
  MAX_BRIDGE_LINK_CHARS,
} from './bridge-link.js';
export type { BridgeInfo } from './bridge-link.js';
export {
  mintAuthToken,
  verifyAuthToken,
  tokenFromCookie,
  ReplayCache,
  AUTH_COOKIE,
  AUTH_TOKEN_BYTES,
  AUTH_TOKEN_VERSION,
  MAX_CLOCK_SKEW_MS,
  MAX_REPLAY_ENTRIES,
} from './bridge-auth.js';
export type { AuthPurpose, AuthVerdict } from './bridge-auth.js';
export {
  encodeTunnelRequest,
  decodeTunnelRequest,
  encodeTunnelResponse,
  decodeTunnelResponse,
  frameRecord,
  FrameReassembler,
  OffsetBuffer,
  TUNNEL_VERSION,
  TUNNEL_SESSION_BYTES,
  TUNNEL_REQUEST_HEADER_BYTES,
  TUNNEL_RESPONSE_HEADER_BYTES,
} from './tunnel-wire.js';
export type { TunnelRequest, TunnelResponse, TunnelOp, TunnelStatus } from './tunnel-wire.js';
export {
  openTunnelChannel,
  DEFAULT_TUNNEL_BUDGET_BYTES,
  MIN_TUNNEL_BUDGET_BYTES,
  HTTP_HEAD_ALLOWANCE_BYTES,
  DEFAULT_EXCHANGE_TIMEOUT_MS,
} from './tunnel-client.js';
export type { TunnelTuning, TunnelStats } from './tunnel-client.js';
export { openWebSocketChannel, WS_HANDSHAKE_TIMEOUT_MS } from './ws-channel.js';
export {
  openRoute,
  routeLabel,
  routeDestination,
  routeRelayUrl,
  routeToRecord,
  routeFromRecord,
  routesFromBridgeLink,
  parseWsUrl,
} from './routes.js';
export type { Route, RouteKind, RouteRecord, RouteContext } from './routes.js';
export { RouteBook, memoryRouteMemory, ROUTES_KEY, LAST_GOOD_KEY, MAX_STORED_ROUTES } from './route-book.js';
export type { RouteMemory } from './route-book.js';
export {
  RouteRacer,
  RACER_CONNECTION_TUNING,
  DEFAULT_STAGGER_MS,
  MIN_STAGGER_MS,
  MAX_STAGGER_MS,
  DEFAULT_MAX_CONCURRENT_ATTEMPTS,
  DEFAULT_MAX_ATTEMPTS_PER_MINUTE,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_REPLY_TIMEOUT_MS,
  REPLY_WATCHDOG_MIN_RATE,
  FAILURE_PENALTY_MS,
  KEEPALIVE_CLOSE_CODE,
  NO_ROUTE_REASON,
  THROTTLE_CHECK_MS,
  SWITCH_RTT_FACTOR,
  SWITCH_MIN_GAIN_MS,
  THROTTLE_RECHECK_MS,
  THROTTLE_RECHECK_MAX_MS,
  SLOW_MEMORY_MS,
  PARKED_TTL_MS,
  ROUTE_SWITCH_CLOSE_CODE,
  ROUTE_SWITCH_REASON,
} from './racer.js';
export {
  RouteMeter,
  SLOW_RATE_BPS,
  JUDGE_BUSY_MS,
  JUDGE_MIN_BYTES,
  JUDGE_WINDOW_MAX_MS,
  RTT_INFLATION,
  MIN_LOADED_RTT_MS,
  requestIdOf,
  replyIdOf,
} from './route-meter.js';
export type { MeterVerdict } from './route-meter.js';
export { PROBE_PINGS, RACER_PING_ID_BASE } from './background-probe.js';
export type { RacerOptions, RacerStatus, RacerPhase, AttemptEvent } from './racer.js';
export { probeRoute, diagnoseRoutes, formatDiagnosisTable, DEFAULT_PROBE_TIMEOUT_MS } from './doctor.js';
export type { RouteDiagnosis } from './doctor.js';
