/**
 * The relay server: an HTTP server that is an ordinary website everywhere except the WebSocket
 * path, where clients speak the frames of docs/relay-api.md.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { CLOSE_CODES, MAX_FRAME_BYTES } from '@pigeon/api';
import { defaultBackend } from '@pigeon/crypto';
import { Connection } from './connection.js';
import type { RelayContext } from './context.js';
import { startAdminServer, DEFAULT_ADMIN_HOST, type AdminServer } from './admin.js';
import { ClusterDirectory, DEFAULT_BUS_SWEEP_MAX_MS, DEFAULT_BUS_SWEEP_MS } from './bus/cluster-directory.js';
import { LocalBus } from './bus/local-bus.js';
import type { RelayBus } from './bus/types.js';
import { checkHealth } from './health.js';
import { instrumentStore } from './metrics/instrumented-store.js';
import { QueueDepthSampler } from './metrics/queue-depth.js';
import { RelayMetrics } from './metrics/relay-metrics.js';
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
import { SendAuthCache } from './send-auth-cache.js';
import { SendAdmission } from './admission.js';
import { openStore } from './store/open-store.js';
import type { MailboxProbe, RelayStore } from './store/types.js';
import { createProtocolVerifier } from './verifier.js';
import { createWebsite } from './website.js';
import { createStaticApp } from './static-app.js';
import { acceptUpgrade, upgradeKey } from './wire/handshake.js';
import { WireSocket } from './wire/wire-socket.js';
import { hasBlobPool, openBlobHost, type BlobHost } from './blobs/host.js';

export interface RelayAddress {
  /** WebSocket URL clients connect to, e.g. ws://127.0.0.1:8080/pigeon. */
  readonly url: string;
  /** URL of the cover website, e.g. http://127.0.0.1:8080/. */
  readonly httpUrl: string;
  /** URL of the web app when it is served (options.app), e.g. http://127.0.0.1:8080/app/. */
  readonly appUrl?: string;
  /** Base URL of the blob (attachment) endpoints, e.g. http://127.0.0.1:8080/pigeon/blobs. */
  readonly blobUrl?: string;
  readonly host: string;
  readonly port: number;
  /** Base URL of the admin listener (/metrics, /healthz) when options.admin is set. */
  readonly adminUrl?: string;
}

export interface RelayStats {
  readonly connections: number;
  readonly onlineDevices: number;
  /** This node's id in connection claims on the bus. */
  readonly nodeId: string;
}

export interface Relay {
  /** Opens the store (if not given) and listens; resolves once connections are accepted. */
  start(): Promise<RelayAddress>;
  /** Closes every connection (GOING_AWAY), stops listening, flushes and closes the store it opened. */
  stop(): Promise<void>;
  /** Deletes expired messages now (also runs every sweepIntervalMs). Returns how many. */
  sweepExpired(): Promise<number>;
  /** Deletes expired blobs and unfinished uploads now (also runs every sweepIntervalMs). Returns how many. */
  sweepBlobs(): Promise<number>;
  stats(): RelayStats;
  /** Prometheus text of this node's metrics (also served on the admin listener). */
  metricsText(): Promise<string>;
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
  const nodeId = options.nodeId ?? randomBytes(6).toString('hex');
  let bus: RelayBus | undefined = options.bus;
  const ownsBus = options.bus === undefined;
  let admin: AdminServer | undefined;
  let queueDepth: QueueDepthSampler | undefined;
  let server: Server | undefined;
  let state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  const timers: NodeJS.Timeout[] = [];
  const connections = new Set<Connection>();
  const perAddress = new Map<string, number>();
  const addressBuckets = new Map<string, TokenBucket>();
  const metrics = new RelayMetrics({
    connections: () => connections.size,
    authenticatedDevices: () => devices?.size ?? 0,
    deliveriesInFlight: () => {
      let n = 0;
      for (const c of connections) n += c.deliveriesInFlight;
      return n;
    },
    busUp: () => (bus?.status().up ? 1 : 0),
    queueDepthSample: () => queueDepth?.value ?? { messages: 0, maxMessages: 0, devices: 0 },
    storeBatches: () => store?.batchStats?.(),
  });
  let devices: ClusterDirectory | undefined;

  const requireStore = (): RelayStore => {
    if (store === undefined) throw new RelayServerError('BAD_STATE', 'relay not started');
    return store;
  };

  const sendAuth = new SendAuthCache(monotonic);
  const admission = new SendAdmission(limits.maxPendingSends);
  const context = (): RelayContext => ({
    sendAuth,
    admission,
    store: instrumentStore(requireStore(), metrics),
    verifier,
    crypto,
    limits,
    clock,
    logger,
    messageTtlMs,
    devices: devices!,
    metrics,
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
  let blobs: BlobHost | undefined;

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    // A malformed upgrade on the WebSocket path gets the same 404 as any other path.
    const key = path === wsPath ? upgradeKey(req) : undefined;
    if (key === undefined || ctx === undefined || state !== 'running' || !socket.readable || !socket.writable) {
      website.rejectUpgrade(socket);
      return;
    }
    const address = normalizeAddress(req.socket.remoteAddress);
    acceptUpgrade(socket, key);
    const ws = new WireSocket(socket as Socket, { maxPayload: MAX_FRAME_BYTES });
    const count = perAddress.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerAddress) {
      ws.start(head);
      ws.close(CLOSE_CODES.TOO_MANY_CONNECTIONS, 'too many connections');
      return;
    }
    perAddress.set(address, count + 1);
    const conn = new Connection(ws, address, ctx);
    connections.add(conn);
    ws.onClose = () => {
      conn.onClosed();
      connections.delete(conn);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    };
    ws.start(head);
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
      store ??= await openStore({ storeUrl: options.storeUrl, dataDir: options.dataDir, durability: options.durability, storeThread: options.storeThread, logger });
      if (bus === undefined) {
        if (options.busUrl !== undefined) {
          // Loaded only for a cluster, so a single node never loads the Redis client.
          const { RedisBus } = await import('./bus/redis-bus.js');
          bus = new RedisBus({ url: options.busUrl, ...(options.busPrefix !== undefined ? { prefix: options.busPrefix } : {}), logger });
        } else {
          bus = new LocalBus();
        }
      }
      const busSweepMs = options.busSweepMs ?? DEFAULT_BUS_SWEEP_MS;
      const probeStore = store;
      const probeMailboxes = probeStore.mailboxesWithMail
        ? (probes: readonly MailboxProbe[]) => probeStore.mailboxesWithMail!(probes, clock.now())
        : undefined;
      const sweepSchedule = { baseMs: busSweepMs, maxMs: Math.max(busSweepMs, options.busSweepMaxMs ?? DEFAULT_BUS_SWEEP_MAX_MS) };
      devices = new ClusterDirectory(bus, nodeId, sweepSchedule, metrics, monotonic, probeMailboxes);
      await bus.start(devices);
      devices.start();
      if (options.blobs !== false) {
        // Duck-typed: importing the PostgreSQL store class would load its driver on every relay.
        const postgres = hasBlobPool(store) ? store : undefined;
        blobs = await openBlobHost({
          dataDir: options.dataDir,
          durability: options.durability,
          wsPath,
          blobs: options.blobs,
          devices: store,
          crypto,
          clock,
          logger,
          ...(postgres ? { postgres: () => postgres.blobPool() } : {}),
        });
      }
      ctx = context();
      server = createServer((req, res) => {
        if (blobs?.service.handle(req, res)) return;
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
          blobs?.service.sweep().catch(() => logger.error('blob_sweep_failed'));
        }, sweepIntervalMs).unref(),
      );
      if (options.admin !== undefined) {
        const usedStore = store;
        const usedBus = bus;
        queueDepth = new QueueDepthSampler(usedStore, () => devices!.deviceKeys());
        queueDepth.start();
        admin = await startAdminServer(options.admin.host ?? DEFAULT_ADMIN_HOST, options.admin.port, {
          metrics: () => metrics.render(),
          health: () => checkHealth(usedStore, usedBus),
        });
      }
      state = 'running';
      const bound = srv.address() as AddressInfo;
      const host = urlHost(options.host ?? '127.0.0.1');
      logger.info('listening', { port: bound.port, node: nodeId, bus: bus.status().kind });
      return {
        url: `ws://${host}:${bound.port}${wsPath}`,
        httpUrl: `http://${host}:${bound.port}/`,
        ...(app ? { appUrl: `http://${host}:${bound.port}${app.path}` } : {}),
        ...(blobs ? { blobUrl: `http://${host}:${bound.port}${blobs.service.basePath}` } : {}),
        ...(admin ? { adminUrl: admin.url } : {}),
        host: bound.address,
        port: bound.port,
      };
    },

    async stop() {
      if (state === 'stopped') return;
      const wasStarted = state !== 'new';
      state = 'stopped';
      for (const t of timers) clearInterval(t);
      devices?.stop();
      queueDepth?.stop();
      await admin?.close();
      for (const conn of connections) conn.close(CLOSE_CODES.GOING_AWAY, 'shutting down');
      if (server) {
        const srv = server;
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
      }
      for (const conn of connections) conn.terminate();
      await blobs?.close();
      if (wasStarted && ownsBus && bus) await bus.close();
      if (wasStarted && ownsStore && store) await store.close();
    },

    sweepExpired,

    sweepBlobs: () => (blobs ? blobs.service.sweep() : Promise.resolve(0)),

    stats() {
      return { connections: connections.size, onlineDevices: devices?.size ?? 0, nodeId };
    },

    metricsText: () => metrics.render(),
  };
}
