/** State shared by every connection of one relay (the connection logic's only dependencies). */
import type { CryptoBackend } from '@pigeon/crypto';
import type { RelayLogger } from './logger.js';
import type { RelayMetrics } from './metrics/relay-metrics.js';
import type { RelayClock, RelayLimits } from './options.js';
import type { RelayStore } from './store/types.js';
import type { TokenBucket } from './rate-limit.js';
import type { RelayVerifier } from './verifier.js';

/** Where the connection of an online device can be found, so new mail is pushed to it. */
export interface DeviceDirectory {
  /** Registers `conn` as the device's connection; returns the one it displaces, if any. */
  claim(deviceKey: string, conn: OnlineConnection): OnlineConnection | undefined;
  release(deviceKey: string, conn: OnlineConnection): void;
  /** New mail was committed for the device: wake its connection, here or (over the bus) on another node. */
  notify(deviceKey: string): void;
  /** A delivery to `conn` failed on a store error: re-read its mailbox soon (the sweeper retries). */
  deliveryFailed(deviceKey: string, conn: OnlineConnection): void;
}

export interface OnlineConnection {
  /** Pulls pending mail from the store and pushes it within the delivery window. */
  wake(): void;
  /** Closes with REPLACED: the same device authenticated on another connection. */
  replace(): void;
  /** Re-reads the mailbox now (a sweep); resolves with how many messages it delivered, -1 when the store failed. */
  sweep(): Promise<number>;
}

export interface RelayContext {
  readonly store: RelayStore;
  readonly verifier: RelayVerifier;
  readonly crypto: CryptoBackend;
  readonly limits: RelayLimits;
  readonly clock: RelayClock;
  readonly logger: RelayLogger;
  readonly messageTtlMs: number;
  readonly devices: DeviceDirectory;
  readonly metrics: RelayMetrics;
  /** Monotonic ms for rate limits and timeouts (never the injectable wall clock). */
  monotonic(): number;
  /** The token bucket shared by every connection from one IP address. */
  addressBucket(address: string): TokenBucket;
}

export function deviceKey(deviceId: Uint8Array): string {
  return Buffer.from(deviceId.buffer, deviceId.byteOffset, deviceId.byteLength).toString('hex');
}
