/**
 * Relay configuration. Every limit has a documented default (docs/relay-api.md, "Limits")
 * and can be lowered by tests or operators.
 */
import { MAX_DEVICES_PER_ACCOUNT } from '@pigeon/api';
import type { CryptoBackend } from '@pigeon/crypto';
import { RelayServerError } from './errors.js';
import type { RelayLogger } from './logger.js';
import type { RelayBus } from './bus/types.js';
import type { RelayStore } from './store/types.js';
import type { RelayVerifier } from './verifier.js';
import type { BlobOptions } from './blobs/options.js';

export interface RelayLimits {
  /** Simultaneous WebSocket connections from one IP address; more are closed with TOO_MANY_CONNECTIONS (4003). */
  readonly maxConnectionsPerAddress: number;
  /** Frames per second per connection (token bucket rate) and its burst. */
  readonly connectionFramesPerSecond: number;
  readonly connectionFrameBurst: number;
  /** Frames per second shared by all connections of one IP address, and its burst. */
  readonly addressFramesPerSecond: number;
  readonly addressFrameBurst: number;
  /** Rate-limited frames in a row after which the connection is closed (RATE_LIMITED 4004). */
  readonly maxRateLimitStrikes: number;
  /** Undecodable frames on one connection after which it is closed (BAD_FRAMES 4000). */
  readonly maxBadFrames: number;
  /** A connection that sends no frame at all within this time is closed (AUTH_TIMEOUT 4001). */
  readonly helloTimeoutMs: number;
  /** An unauthenticated connection silent for this long is closed (GOING_AWAY 1001). */
  readonly idleTimeoutMs: number;
  /** WebSocket ping interval; a peer that misses one pong is dropped. */
  readonly heartbeatIntervalMs: number;
  /** Messages and bytes one device's mailbox may hold; beyond -> MAILBOX_FULL. */
  readonly mailboxMaxMessages: number;
  readonly mailboxMaxBytes: number;
  /** Deliveries sent and not yet acknowledged on one connection. */
  readonly deliveryWindow: number;
  /** One-time prekeys of each kind the relay keeps per device; beyond -> LIMIT_EXCEEDED. */
  readonly maxOneTimePreKeysPerKind: number;
  /** Delivery tokens per account; beyond -> LIMIT_EXCEEDED. */
  readonly maxDeliveryTokensPerAccount: number;
  /** Devices per account (at most MAX_DEVICES_PER_ACCOUNT, the wire bound of a `bundles` reply). */
  readonly maxDevicesPerAccount: number;
  /** A connection whose unsent output exceeds this is dropped (a peer that does not read). */
  readonly maxBufferedBytes: number;
  /**
   * Sends issued and not yet answered on the whole relay; a send beyond is refused with
   * RATE_LIMITED and a short retryAfterMs (admission.ts), so overload cannot queue up.
   */
  readonly maxPendingSends: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxConnectionsPerAddress: 64,
  connectionFramesPerSecond: 200,
  connectionFrameBurst: 1000,
  addressFramesPerSecond: 2000,
  addressFrameBurst: 10_000,
  maxRateLimitStrikes: 100,
  maxBadFrames: 5,
  helloTimeoutMs: 30_000,
  idleTimeoutMs: 5 * 60_000,
  heartbeatIntervalMs: 30_000,
  mailboxMaxMessages: 10_000,
  mailboxMaxBytes: 100 * 1024 * 1024,
  deliveryWindow: 64,
  maxOneTimePreKeysPerKind: 1000,
  maxDeliveryTokensPerAccount: 1000,
  maxDevicesPerAccount: MAX_DEVICES_PER_ACCOUNT,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxPendingSends: 4096,
};

export const DEFAULT_WS_PATH = '/pigeon';
export const DEFAULT_MESSAGE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

export interface RelayClock {
  /** Wall-clock ms since the epoch: message receipt times, TTL, the challenge's relayTime. */
  now(): number;
}

export interface RelayOptions {
  /** Interface to listen on. Default '127.0.0.1'; use '0.0.0.0' or '::' to serve the network. */
  readonly host?: string;
  /** TCP port; 0 (default) picks a free one, reported by start(). */
  readonly port?: number;
  /** Directory of the SQLite database (created if missing). Omitted: an in-memory store. */
  readonly dataDir?: string;
  /** A store to use instead of SQLite in dataDir (the relay does not close it). */
  readonly store?: RelayStore;
  /**
   * Where the relay keeps its data when `store` is not given: a PostgreSQL URL, or several
   * separated by commas (shards), for a cluster; omitted or 'sqlite': SQLite in dataDir.
   */
  readonly storeUrl?: string;
  /** A bus to use (e.g. a LocalBusHub endpoint shared by relays in one process); the relay does not close it. */
  readonly bus?: RelayBus;
  /** redis://host:port when `bus` is not given (several nodes); omitted: the in-process bus. */
  readonly busUrl?: string;
  /** Channel prefix on the Redis bus (default 'pigeon:'), so clusters or test runs can share a Redis. */
  readonly busPrefix?: string;
  /** Names this node in connection claims (default: random per start). */
  readonly nodeId?: string;
  /** Re-read interval of an online device's mailbox: first/while the bus is down, and the backoff ceiling. */
  readonly busSweepMs?: number;
  readonly busSweepMaxMs?: number;
  /** Serve /metrics and /healthz on this separate listener (see admin.ts); omitted: not served. */
  readonly admin?: { readonly port: number; readonly host?: string };
  /** 'full' (default): fsync per group commit; 'normal': survives a killed process, not a power cut. */
  readonly durability?: 'full' | 'normal';
  /**
   * SQLite only: run the store on a worker thread, so statements and the fsync of each commit do
   * not block the event loop (default false; measured in CONTEXT.md "Hot path").
   */
  readonly storeThread?: boolean;
  /** The only path that accepts WebSocket upgrades. Default '/pigeon'. */
  readonly wsPath?: string;
  readonly limits?: Partial<RelayLimits>;
  /** Undelivered messages are deleted after this long. Default 30 days. */
  readonly messageTtlMs?: number;
  /** How often expired messages are swept. Default 60 s. */
  readonly sweepIntervalMs?: number;
  readonly clock?: RelayClock;
  readonly logger?: RelayLogger;
  /** Cryptography backend (default: the fastest the platform offers). */
  readonly crypto?: CryptoBackend;
  /** Identity checks; defaults to the protocol package's. */
  readonly verifier?: RelayVerifier;
  /** HTML of the cover website (GET /) and of its 404 page. */
  readonly site?: { readonly indexHtml?: string; readonly notFoundHtml?: string };
  /** Serve the web app (a built directory) at `path` (default '/app/'; see static-app.ts). */
  readonly app?: { readonly dir: string; readonly path?: string };
  /** The blob (attachment) store, on by default under `${wsPath}/blobs`; false turns it off (docs/relay-api.md "Blobs"). */
  readonly blobs?: BlobOptions | false;
}

function positiveInt(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RelayServerError('BAD_OPTION', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  }
}

export function resolveLimits(partial: Partial<RelayLimits> | undefined): RelayLimits {
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (name === 'connectionFramesPerSecond' || name === 'addressFramesPerSecond') {
      if (typeof value !== 'number' || !(value > 0)) throw new RelayServerError('BAD_OPTION', `${name} must be positive`);
    } else {
      positiveInt(name, value as number);
    }
  }
  if (limits.maxDevicesPerAccount > MAX_DEVICES_PER_ACCOUNT) {
    throw new RelayServerError('BAD_OPTION', `maxDevicesPerAccount must be <= ${MAX_DEVICES_PER_ACCOUNT}`);
  }
  return limits;
}

export function validateOptions(options: RelayOptions): void {
  if (options.port !== undefined) {
    positiveInt('port', options.port, true);
    if (options.port > 65535) throw new RelayServerError('BAD_OPTION', 'port must be <= 65535');
  }
  const wsPath = options.wsPath ?? DEFAULT_WS_PATH;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(wsPath)) throw new RelayServerError('BAD_OPTION', 'wsPath must be an absolute URL path');
  if (options.messageTtlMs !== undefined) positiveInt('messageTtlMs', options.messageTtlMs);
  if (options.sweepIntervalMs !== undefined) positiveInt('sweepIntervalMs', options.sweepIntervalMs);
  if (options.busSweepMs !== undefined) positiveInt('busSweepMs', options.busSweepMs);
  if (options.busSweepMaxMs !== undefined) positiveInt('busSweepMaxMs', options.busSweepMaxMs);
  if ((options.busSweepMaxMs ?? Infinity) < (options.busSweepMs ?? 0)) throw new RelayServerError('BAD_OPTION', 'busSweepMaxMs must be >= busSweepMs');
  if (options.nodeId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.nodeId)) {
    throw new RelayServerError('BAD_OPTION', 'nodeId: 1 to 64 of A-Z a-z 0-9 _ -');
  }
  if (options.admin !== undefined) {
    positiveInt('admin port', options.admin.port, true);
    if (options.admin.port > 65535) throw new RelayServerError('BAD_OPTION', 'admin port must be <= 65535');
  }
  if (options.busUrl !== undefined && !/^rediss?:\/\//.test(options.busUrl)) {
    throw new RelayServerError('BAD_OPTION', 'the bus URL must start with redis:// or rediss://');
  }
  if (options.durability !== undefined && options.durability !== 'full' && options.durability !== 'normal') {
    throw new RelayServerError('BAD_OPTION', "durability must be 'full' or 'normal'");
  }
}
