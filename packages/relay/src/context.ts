/** State shared by every connection of one relay (the connection logic's only dependencies). */
import type { CryptoBackend } from '@pigeon/crypto';
import type { RelayLogger } from './logger.js';
import type { RelayMetrics } from './metrics/relay-metrics.js';
import type { RelayClock, RelayLimits } from './options.js';
import type { MailboxProbe, RelayStore } from './store/types.js';
import type { TokenBucket } from './rate-limit.js';
import type { RelayVerifier } from './verifier.js';
import type { SendAuthCache } from './send-auth-cache.js';
import type { SendAdmission } from './admission.js';

/** A message just committed, handed to the recipient's connection so it need not re-read it. */
export interface PushedMessage {
  readonly messageId: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
}

/** Where the connection of an online device can be found, so new mail is pushed to it. */
export interface DeviceDirectory {
  /** Registers `conn` as the device's connection; returns the one it displaces, if any. */
  claim(deviceKey: string, conn: OnlineConnection): OnlineConnection | undefined;
  release(deviceKey: string, conn: OnlineConnection): void;
  /**
   * New mail was committed for the device: wake its connection, here or (over the bus) on another
   * node. `message` is the committed message when there is exactly one, for a connection here.
   */
  notify(deviceKey: string, message?: PushedMessage): void;
  /** A delivery to `conn` failed on a store error: re-read its mailbox soon (the sweeper retries). */
  deliveryFailed(deviceKey: string, conn: OnlineConnection): void;
}

export interface OnlineConnection {
  /** Pulls pending mail from the store and pushes it within the delivery window (or pushes `message` when that is safe). */
  wake(message?: PushedMessage): void;
  /** Closes with REPLACED: the same device authenticated on another connection. */
  replace(): void;
  /** Re-reads the mailbox now (a sweep); resolves with how many messages it delivered, -1 when the store failed. */
  sweep(): Promise<number>;
  /**
   * When this connection is caught up (its mailbox holds nothing unsent past `afterSeq`), the
   * probe a sweep may ask the store instead of re-reading (RelayStore.mailboxesWithMail);
   * undefined when only a read will do.
   */
  sweepProbe?(): MailboxProbe | undefined;
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
  /** Positive recipient/token answers for `send`, briefly (send-auth-cache.ts). */
  readonly sendAuth: SendAuthCache;
  /** Sends issued and not yet answered, relay-wide; refuses sends past the bound (admission.ts). */
  readonly admission: SendAdmission;
  /** Monotonic ms for rate limits and timeouts (never the injectable wall clock). */
  monotonic(): number;
  /** The token bucket shared by every connection from one IP address. */
  addressBucket(address: string): TokenBucket;
}

export function deviceKey(deviceId: Uint8Array): string {
  return Buffer.from(deviceId.buffer, deviceId.byteOffset, deviceId.byteLength).toString('hex');
}
