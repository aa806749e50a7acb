/**
 * The relay server: an HTTP server that is an ordinary website everywhere except the WebSocket
 * path, where clients speak the frames of docs/relay-api.md.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { CLOSE_CODES, MAX_FRAME_BYTES } from '@pigeon/api';
import { defaultBackend } from '@pigeon/crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection } from './connection.js';
import { LocalDeviceDirectory, type RelayContext } from './context.js';
import { RelayServerError } from './errors.js';
import { silentLogger } from './logger.js';
import {
  DEFAULT_MESSAGE_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_WS_PATH,
  resolveLimits,
  validateOptions,
  type RelayLimits,
  type RelayOptions,
} from './options.js';
import { TokenBucket } from './rate-limit.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { RelayStore } from './store/types.js';
import { createProtocolVerifier } from './verifier.js';
import { createWebsite } from './website.js';
import { createStaticApp } from './static-app.js';

export interface RelayAddress {
  /** WebSocket URL clients connect to, e.g. ws://127.0.0.1:8080/pigeon. */
  readonly url: string;
  /** URL of the cover website, e.g. http://127.0.0.1:8080/. */
  readonly httpUrl: string;
  /** URL of the web app when it is served (options.app), e.g. http://127.0.0.1:8080/app/. */
  readonly appUrl?: string;
  readonly host: string;
  readonly port: number;
}

export interface RelayStats {
  readonly connections: number;
  readonly onlineDevices: number;
}

export interface Relay {
  /** Opens the store (if not given) and listens; resolves once connections are accepted. */
  start(): Promise<RelayAddress>;
  /** Closes every connection (GOING_AWAY), stops listening, flushes and closes the store it opened. */
  stop(): Promise<void>;
  /** Deletes expired messages now (also runs every sweepIntervalMs). Returns how many. */
  sweepExpired(): Promise<number>;
  stats(): RelayStats;
  /** The store in use (after start()). */
  readonly store: RelayStore;
  readonly limits: RelayLimits;
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are the same client. */
function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function createRelay(options: RelayOptions = {}): Relay {
  validateOptions(options);
  const limits = resolveLimits(options.limits);
  const wsPath = options.wsPath ?? DEFAULT_WS_PATH;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? { now: () => Date.now() };
  const crypto = options.crypto ?? defaultBackend();
  const verifier = options.verifier ?? createProtocolVerifier(crypto);
  const messageTtlMs = options.messageTtlMs ?? DEFAULT_MESSAGE_TTL_MS;
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const website = createWebsite(options.site?.indexHtml, options.site?.notFoundHtml);
  const app = options.app ? createStaticApp({ dir: options.app.dir, path: options.app.path, wsPath }) : null;
  const monotonic = () => performance.now();

  let store: RelayStore | undefined = options.store;
  const ownsStore = options.store === undefined;
  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  let state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  const timers: NodeJS.Timeout[] = [];
  const connections = new Set<Connection>();
  const perAddress = new Map<string, number>();
  const addressBuckets = new Map<string, TokenBucket>();
  const devices = new LocalDeviceDirectory();

  const requireStore = (): RelayStore => {
    if (store === undefined) throw new RelayServerError('BAD_STATE', 'relay not started');
    return store;
  };

  const context = (): RelayContext => ({
    store: requireStore(),
    verifier,
    crypto,
    limits,
    clock,
    logger,
    messageTtlMs,
    devices,
    monotonic,
    addressBucket(address) {
      let bucket = addressBuckets.get(address);
      if (bucket === undefined) {
        bucket = new TokenBucket(limits.addressFramesPerSecond, limits.addressFrameBurst, monotonic());
        addressBuckets.set(address, bucket);
      }
      return bucket;
    },
  });
  let ctx: RelayContext | undefined;

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== wsPath || wss === undefined || ctx === undefined || state !== 'running') {
      website.rejectUpgrade(socket);
      return;
    }
    const address = normalizeAddress(req.socket.remoteAddress);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const count = perAddress.get(address) ?? 0;
      if (count >= limits.maxConnectionsPerAddress) {
        ws.close(CLOSE_CODES.TOO_MANY_CONNECTIONS, 'too many connections');
        return;
      }
      perAddress.set(address, count + 1);
      const conn = new Connection(ws, address, ctx!);
      connections.add(conn);
      ws.on('close', () => {
        conn.onClosed();
        connections.delete(conn);
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    });
  }

  /** Timeouts and heartbeats for all connections in one timer (no per-frame timer work). */
  function housekeeping(): void {
    const now = monotonic();
    for (const conn of connections) {
      if (conn.isClosed) continue;
      if (conn.lastFrameAt < 0) {
        if (now - conn.openedAt >= limits.helloTimeoutMs) {
          conn.close(CLOSE_CODES.AUTH_TIMEOUT, 'timeout');
          continue;
        }
      } else if (!conn.authenticated && now - conn.lastFrameAt >= limits.idleTimeoutMs) {
        conn.close(CLOSE_CODES.GOING_AWAY, 'idle');
        continue;
      }
      if (now - conn.lastPingAt >= limits.heartbeatIntervalMs) {
        if (conn.awaitingPong) conn.terminate();
        else conn.ping(now);
      }
    }
    // Forget address buckets that are full again and have no connection left.
    for (const [address, bucket] of addressBuckets) {
      if (!perAddress.has(address) && bucket.isFull(now)) addressBuckets.delete(address);
    }
  }

  async function sweepExpired(): Promise<number> {
    const removed = await requireStore().sweepExpired(clock.now());
    if (removed > 0) logger.info('messages_expired', { count: removed });
    return removed;
  }

  return {
    get store() {
      return requireStore();
    },
    limits,

    async start() {
      if (state !== 'new') throw new RelayServerError('BAD_STATE', 'start() may be called once');
      state = 'starting';
      store ??= openSqliteStore({ dataDir: options.dataDir, durability: options.durability });
      ctx = context();
      wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
      server = createServer((req, res) => {
        if (!app?.handle(req, res)) website.handle(req, res);
      });
      server.on('upgrade', onUpgrade);
      const srv = server;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
          srv.off('error', reject);
          resolve();
        });
      });
      const tick = Math.max(20, Math.min(1000, Math.floor(Math.min(limits.helloTimeoutMs, limits.idleTimeoutMs, limits.heartbeatIntervalMs) / 4)));
      timers.push(setInterval(housekeeping, tick).unref());
      timers.push(
        setInterval(() => {
          sweepExpired().catch(() => logger.error('sweep_failed'));
        }, sweepIntervalMs).unref(),
      );
      state = 'running';
      const bound = srv.address() as AddressInfo;
      const host = urlHost(options.host ?? '127.0.0.1');
      logger.info('listening', { port: bound.port });
      return {
        url: `ws://${host}:${bound.port}${wsPath}`,
        httpUrl: `http://${host}:${bound.port}/`,
        ...(app ? { appUrl: `http://${host}:${bound.port}${app.path}` } : {}),
        host: bound.address,
        port: bound.port,
      };
    },

    async stop() {
      if (state === 'stopped') return;
      const wasStarted = state !== 'new';
      state = 'stopped';
      for (const t of timers) clearInterval(t);
      for (const conn of connections) conn.close(CLOSE_CODES.GOING_AWAY, 'shutting down');
      if (server) {
        const srv = server;
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
      }
      for (const conn of connections) conn.terminate();
      wss?.close();
      if (wasStarted && ownsStore && store) await store.close();
    },

    sweepExpired,

    stats() {
      return { connections: connections.size, onlineDevices: devices.size };
    },
  };
}
