/**
 * The relay's storage behind one small interface, so the SQLite implementation (single node)
 * and a PostgreSQL one (scale-out) pass the same conformance suite (test/store-conformance.ts).
 * Everything is keyed by the recipient device or account, which is also how it shards.
 *
 * Contract every implementation keeps:
 * - a resolved write is durable (committed) before the promise resolves: the relay answers `ok`
 *   only afterwards, so a crash never loses an acknowledged message;
 * - `takePreKeyBundles` hands each one-time prekey to exactly one caller, even when called
 *   concurrently (the select and the delete are one atomic step);
 * - `enqueue` is idempotent by (recipient, messageId);
 * - `pending` returns messages of one device in the order they were stored (increasing `seq`);
 * - expected refusals are results ('full', 'limit' ...), never exceptions; an exception means
 *   the store failed and the relay answers INTERNAL.
 */
import type { WirePreKey, WireSignedPreKey } from '@pigeon/api';
import type { LinkedDeviceStore } from './linked-devices.js';

export type { LinkedDeviceStore, PutDeviceListResult, StoredDeviceList } from './linked-devices.js';

export interface StoredDevice {
  readonly deviceId: Uint8Array;
  readonly accountId: Uint8Array;
  /** Ed25519 device signing key (from the certificate), used to check auth signatures. */
  readonly signingKey: Uint8Array;
  /** The encoded DeviceCertificate, served inside prekey bundles. */
  readonly certificate: Uint8Array;
  readonly registeredAt: number;
}

/** 'created' | 'updated' (same device, new certificate) or a refusal. */
export type RegisterDeviceResult = 'created' | 'updated' | 'account_full' | 'account_mismatch';

export interface PreKeyUpload {
  readonly signedPreKey: WireSignedPreKey | null;
  readonly kemLastResortPreKey: WireSignedPreKey | null;
  readonly oneTimePreKeys: readonly WirePreKey[];
  readonly kemOneTimePreKeys: readonly WireSignedPreKey[];
}

export interface PreKeyCounts {
  readonly oneTimePreKeys: number;
  readonly kemOneTimePreKeys: number;
}

/** One device's share of a fetch: the one-time keys in it are already removed from the store. */
export interface TakenBundle {
  readonly device: StoredDevice;
  readonly signedPreKey: WireSignedPreKey;
  readonly oneTimePreKey: WirePreKey | null;
  readonly kemPreKey: WireSignedPreKey;
  /** True when no ML-KEM one-time key was left and the signed last-resort key was used. */
  readonly kemLastResort: boolean;
}

export interface NewMessage {
  readonly recipientDeviceId: Uint8Array;
  readonly messageId: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
  readonly expiresAt: number;
}

/** "Does this mailbox hold unexpired mail with seq > afterSeq?" (RelayStore.mailboxesWithMail). */
export interface MailboxProbe {
  readonly deviceId: Uint8Array;
  readonly afterSeq: number;
}

export interface StoredMessage {
  /** Store-wide increasing sequence number; only its order matters. */
  readonly seq: number;
  readonly messageId: Uint8Array;
  readonly envelope: Uint8Array;
  readonly receivedAt: number;
}

export interface MailboxLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

export type EnqueueResult = 'stored' | 'duplicate' | 'full';

/** Linked devices (device lists, provisioning mailboxes): ./linked-devices.ts. */
export interface RelayStore extends LinkedDeviceStore {
  // accounts and devices
  registerDevice(device: StoredDevice, maxDevicesPerAccount: number): Promise<RegisterDeviceResult>;
  getDevice(deviceId: Uint8Array): Promise<StoredDevice | undefined>;
  accountExists(accountId: Uint8Array): Promise<boolean>;

  // prekeys
  /** Replaces the signed keys given, adds (or replaces by id) one-time keys; 'limit' when a kind would exceed maxOneTimePerKind (nothing changes). */
  putPreKeys(deviceId: Uint8Array, upload: PreKeyUpload, maxOneTimePerKind: number): Promise<'ok' | 'limit'>;
  preKeyCounts(deviceId: Uint8Array): Promise<PreKeyCounts>;
  /**
   * One bundle per device of the account that has a signed prekey and an ML-KEM last-resort key
   * (devices without them are skipped), consuming the lowest-id one-time key of each kind.
   * undefined when the account is unknown.
   */
  takePreKeyBundles(accountId: Uint8Array): Promise<TakenBundle[] | undefined>;

  // delivery tokens (stored as hashes; the store never sees a token)
  setDeliveryTokens(
    accountId: Uint8Array,
    addHashes: readonly Uint8Array[],
    removeHashes: readonly Uint8Array[],
    maxPerAccount: number,
  ): Promise<'ok' | 'limit'>;
  hasDeliveryToken(accountId: Uint8Array, tokenHash: Uint8Array): Promise<boolean>;

  // mailboxes
  enqueue(message: NewMessage, limits: MailboxLimits): Promise<EnqueueResult>;
  /** Unexpired messages of the device with seq > afterSeq, oldest first, at most `limit`. */
  pending(deviceId: Uint8Array, afterSeq: number, now: number, limit: number): Promise<StoredMessage[]>;
  /**
   * For each probe, whether its mailbox holds an unexpired message with seq > afterSeq: the
   * cluster's periodic sweep asks this for many idle connections at once and reads only the
   * mailboxes that answer true (one statement per shard instead of one read per device).
   */
  mailboxesWithMail?(probes: readonly MailboxProbe[], now: number): Promise<boolean[]>;
  /** Deletes the listed messages of this device (unknown ids are ignored); returns how many went. */
  ack(deviceId: Uint8Array, messageIds: readonly Uint8Array[]): Promise<number>;
  /** Deletes every message with expiresAt <= now; returns how many. */
  sweepExpired(now: number): Promise<number>;
  mailboxUsage(deviceId: Uint8Array): Promise<{ readonly messages: number; readonly bytes: number }>;

  /**
   * Optional liveness probe of every database the store uses (for /healthz); rejects when one
   * does not answer. Stores without it are probed with a cheap read (src/health.ts).
   */
  ping?(): Promise<void>;

  /**
   * True when the enqueue promises of one process resolve, per mailbox, in commit order, which is
   * seq order (SQLite: one writer, group commits resolved in issue order; PostgreSQL: one batch
   * per shard at a time, a mailbox's writes in issue order within it, seq taken under the
   * mailbox's usage-row lock). The relay then pushes a message it just stored straight to the
   * recipient's connection here without re-reading the mailbox. A store without that order leaves
   * it unset and every new message is read back.
   */
  readonly resolvesInCommitOrder?: boolean;

  /** Group-commit counters since open, for stores that batch round trips (PostgreSQL). */
  batchStats?(): StoreBatchStats;

  /** Flushes pending writes and releases the store. */
  close(): Promise<void>;
}

/** Batches sent to the database and the operations they carried, by kind; see batchStats. */
export interface StoreBatchStats {
  readonly writes: { readonly batches: number; readonly items: number; readonly failedBatches: number };
  readonly reads: { readonly batches: number; readonly items: number; readonly failedBatches: number };
}
