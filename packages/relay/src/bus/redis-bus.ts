/**
 * The bus over Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH): one channel per device,
 * `<prefix>{<device id hex>}`. The hash tag keeps a device's channel on one slot, so on a Redis
 * Cluster each shard carries only its own devices' traffic (classic PUBLISH is broadcast to every
 * node of a cluster and does not scale).
 *
 * Failure model (docs/operations.md "Cluster"): Redis is an accelerator, not a dependency. While
 * it is unreachable, publishes fail at once (no offline queue: a doorbell delayed by minutes is
 * worth nothing, and a queue would grow without bound), the node keeps serving and its sweeps
 * deliver mail. The client reconnects by itself; once every watched device is subscribed again
 * the owner is told (onUp) and re-reads every watched mailbox, which covers the doorbells lost
 * meanwhile.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { RelayServerError } from '../errors.js';
import type { RelayLogger } from '../logger.js';
import { decodeClaim, encodeClaim, type BusHandlers, type BusStatus, type ClaimOrigin, type RelayBus } from './types.js';

export const DEFAULT_BUS_PREFIX = 'pigeon:';
/** Reconnect delays grow by this step per attempt up to REDIS_RECONNECT_MAX_MS. */
export const REDIS_RECONNECT_STEP_MS = 100;
/** Longest wait between reconnect attempts: bounds how long the doorbell stays away after Redis returns. */
export const REDIS_RECONNECT_MAX_MS = 1000;
export const REDIS_CONNECT_TIMEOUT_MS = 5000;
/** How long start() waits for a first connection before going on without the bus. */
export const REDIS_START_WAIT_MS = 5000;
/** Subscriptions sent at once when (re)subscribing every watched device. */
export const RESUBSCRIBE_BATCH = 1000;

export interface RedisBusOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. */
  readonly url: string;
  /** Channel prefix, so several clusters (or test runs) can share one Redis. */
  readonly prefix?: string;
  readonly logger?: RelayLogger;
}

const PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{0,64}$/;

export class RedisBus implements RelayBus {
  private readonly prefix: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly watched = new Set<string>();
  private handlers: BusHandlers | undefined;
  private up = false;
  private closed = false;
  /** Bumped on every (re)connection of the subscriber, so a stale resubscribe run stops. */
  private generation = 0;
  private readonly logger: RelayLogger | undefined;

  constructor(options: RedisBusOptions) {
    if (!/^rediss?:\/\//.test(options.url)) throw new RelayServerError('BAD_OPTION', 'the bus URL must start with redis:// or rediss://');
    this.prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
    if (!PREFIX_PATTERN.test(this.prefix)) throw new RelayServerError('BAD_OPTION', 'bus prefix: up to 64 of A-Z a-z 0-9 : _ . -');
    this.logger = options.logger;
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      retryStrategy: (times: number) => Math.min(times * REDIS_RECONNECT_STEP_MS, REDIS_RECONNECT_MAX_MS),
    };
    // Auto-pipelining: the doorbells of one loop turn leave in one write (one syscall, one packet).
    this.pub = new Redis(options.url, { ...common, enableAutoPipelining: true, connectionName: 'pigeon-relay-pub' });
    this.sub = new Redis(options.url, { ...common, autoResubscribe: false, connectionName: 'pigeon-relay-sub' });
    // Without listeners, ioredis reports every failed reconnect as an unhandled error event.
    this.pub.on('error', () => undefined);
    this.sub.on('error', () => undefined);
  }

  private channel(key: string): string {
    return `${this.prefix}{${key}}`;
  }

  private keyOf(channel: string): string | undefined {
    if (!channel.startsWith(this.prefix)) return undefined;
    const rest = channel.slice(this.prefix.length);
    return rest.startsWith('{') && rest.endsWith('}') ? rest.slice(1, -1) : undefined;
  }

  async start(handlers: BusHandlers): Promise<void> {
    this.handlers = handlers;
    this.sub.on('smessage', (channel: string, message: string) => {
      const key = this.keyOf(channel);
      if (key === undefined || !this.watched.has(key)) return;
      if (message === '') {
        this.handlers?.onDoorbell(key);
        return;
      }
      const origin = decodeClaim(message);
      if (origin !== undefined) this.handlers?.onClaim(key, origin);
    });
    this.sub.on('ready', () => void this.resubscribe());
    this.sub.on('close', () => this.markDown());
    const first = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, REDIS_START_WAIT_MS);
      timer.unref();
      this.sub.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // connect() rejects when the first attempt fails; the retry strategy keeps trying.
    this.pub.connect().catch(() => undefined);
    this.sub.connect().catch(() => undefined);
    await first;
    if (!this.up) this.logger?.warn('bus_unreachable', { kind: 'redis' });
  }

  private markDown(): void {
    this.generation++;
    if (!this.up) return;
    this.up = false;
    this.logger?.warn('bus_down', { kind: 'redis' });
    this.handlers?.onDown();
  }

  /** Subscribes every watched device again after a (re)connection, then reports the bus up. */
  private async resubscribe(): Promise<void> {
    const generation = ++this.generation;
    const keys = [...this.watched];
    try {
      for (let i = 0; i < keys.length; i += RESUBSCRIBE_BATCH) {
        await Promise.all(keys.slice(i, i + RESUBSCRIBE_BATCH).map((k) => this.sub.ssubscribe(this.channel(k))));
        if (generation !== this.generation || this.closed) return;
      }
    } catch {
      return; // the connection dropped again; the next 'ready' starts over
    }
    if (generation !== this.generation || this.closed) return;
    this.up = true;
    this.logger?.info('bus_up', { kind: 'redis', watched: keys.length });
    this.handlers?.onUp();
  }

  async watch(key: string): Promise<boolean> {
    if (this.closed) return false;
    this.watched.add(key);
    if (this.sub.status !== 'ready') return false;
    try {
      await this.sub.ssubscribe(this.channel(key));
      return true;
    } catch {
      return false;
    }
  }

  unwatch(key: string): void {
    if (!this.watched.delete(key)) return;
    if (this.sub.status === 'ready') this.sub.sunsubscribe(this.channel(key)).catch(() => undefined);
  }

  private async publish(key: string, message: string): Promise<boolean> {
    if (this.closed || this.pub.status !== 'ready') return false;
    try {
      await this.pub.spublish(this.channel(key), message);
      return true;
    } catch {
      return false;
    }
  }

  ringDoorbell(key: string): Promise<boolean> {
    return this.publish(key, '');
  }

  announceClaim(key: string, origin: ClaimOrigin): Promise<boolean> {
    return this.publish(key, encodeClaim(origin));
  }

  async ping(timeoutMs: number): Promise<boolean> {
    if (this.closed || this.pub.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.pub.ping().then((r) => r === 'PONG'), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  status(): BusStatus {
    return { kind: 'redis', up: this.up && this.pub.status === 'ready', lossy: true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.up = false;
    this.watched.clear();
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
