/**
 * The state the client core shares between its modules (identity, invites, sealing, outbox,
 * receive, acks, prekeys, relays): one `ClientCore` per PigeonClient, passed explicitly to the
 * functions of core/*.ts. Feature modules never see it; they get `ClientInternals` (seam.ts).
 *
 * It holds keys, so it keeps them out of JSON/inspect like the client does.
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { fromHex } from '@pigeon/crypto';
import { formatPigeonId } from '@pigeon/protocol';
import type { AccountKeys, DeviceKeys, SessionRecord } from '@pigeon/protocol';
import type { DeviceManager } from '../devices/manager.js';
import { Emitter } from '../emitter.js';
import { ClientError } from '../errors.js';
import type { ExtensionHandler } from '../internals.js';
import type { MessageLife } from '../message-life/manager.js';
import { SerialQueue } from '../serial.js';
import type { ClientStore, ContactRow, IdentityRow, MessageRow, OutboxRow } from '../store/types.js';
import type { RelayConnection, ConnectionTuning } from '../transport/relay-connection.js';
import type { SocketFactory } from '../transport/socket.js';
import type { ConnectionState, Contact, Logger, Profile, ReceiptSettings, SafetyEvent, StoredMessage } from '../types.js';

/** Receipt settings live in the store's state table ('on' | 'off'; missing = on). */
export const DELIVERY_RECEIPTS_KEY = 'settings.delivery_receipts';
export const READ_RECEIPTS_KEY = 'settings.read_receipts';

export interface ClientEvents extends Record<string, unknown> {
  message: StoredMessage;
  status: StoredMessage;
  contact: Contact;
  safety: SafetyEvent;
  connection: ConnectionState;
  outbox: number;
  drained: boolean;
}

export interface Keys {
  /** On a linked device only the public key is real: the account secret stays on the first device (hasAccountSecret). */
  readonly account: AccountKeys;
  readonly hasAccountSecret: boolean;
  readonly device: DeviceKeys;
  readonly identity: IdentityRow;
  readonly profile: Profile;
}

/** Envelopes sealed for one contact plus the advanced session records, committed together (outbox.ts commitSealed). */
export interface SealedFor {
  readonly rows: OutboxRow[];
  readonly sessions: { deviceId: string; record: SessionRecord }[];
}

/** What the platform entry provides (the fields of ClientCore that never change). */
export type CoreDeps = Pick<ClientCore, 'store' | 'crypto' | 'socketFactory' | 'now' | 'log' | 'tuning' | 'connectTimeoutMs'>;

export interface SendingState {
  /** Relay message ids on the wire (at most MAX_SENDS_IN_FLIGHT). */
  readonly inFlight: Set<string>;
  /** Messages with at least one envelope accepted by a relay while others are still in flight. */
  readonly acceptedSome: Set<string>;
  retryTimer: ReturnType<typeof setTimeout> | null;
  /** A pump is queued for the end of the current burst of settled sends (outbox.ts). */
  pumpQueued: boolean;
}

export interface AckState {
  pending: Uint8Array[];
  timer: ReturnType<typeof setTimeout> | null;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export function toStored(row: MessageRow): StoredMessage {
  return { ...row };
}

export class ClientCore {
  readonly store: ClientStore;
  readonly crypto: CryptoBackend;
  readonly socketFactory: SocketFactory;
  readonly now: () => number;
  readonly log: Logger;
  readonly tuning: ConnectionTuning;
  readonly connectTimeoutMs: number;
  readonly serial = new SerialQueue();
  readonly events = new Emitter<ClientEvents>();
  /** Set by init/load/adoptIdentity; null until the profile has an identity. */
  identity: Keys | null = null;
  closed = false;
  /** The user asked to be online (connect/flush): the outbox pump may dial relays. */
  wantOnline = false;
  /** The authenticated connection to our own relay (receives; see relays.ts). */
  auth: RelayConnection | null = null;
  /** Anonymous connections by relay URL (sealed sends, bundle fetches). */
  readonly anon = new Map<string, RelayConnection>();
  /** The relay finished sending the backlog since the last auth (sync()). */
  drained = false;
  /** Outbox pump state (outbox.ts). */
  readonly sending: SendingState = { inFlight: new Set(), acceptedSome: new Set(), retryTimer: null, pumpQueued: false };
  /** Relay ids of committed deliveries waiting to be acked, sent in batches on the next tick (acks.ts). */
  readonly acks: AckState = { pending: [], timer: null };
  /** The prekey upkeep under way, if any (prekeys.ts). */
  topUp: Promise<void> | null = null;
  /** Re-runs the prekey upkeep every PREKEY_CHECK_INTERVAL_MS while the client is open (relays.ts). */
  preKeyTimer: ReturnType<typeof setInterval> | null = null;
  readonly pigeonIds = new Map<string, string>();
  /** Feature modules that own content types (groups/, devices/, message-life/): asked first on receive. */
  readonly extensions: ExtensionHandler[] = [];
  /** Told when every envelope of a content id that is not a one-to-one message has settled (groups/). */
  readonly settledListeners: ((messageId: string, accepted: boolean) => void)[] = [];
  /** Wired by PigeonClient's constructor right after the core exists (they need its internals). */
  devices!: DeviceManager;
  life!: MessageLife;

  constructor(deps: CoreDeps) {
    this.store = deps.store;
    this.crypto = deps.crypto;
    this.socketFactory = deps.socketFactory;
    this.now = deps.now;
    this.log = deps.log;
    this.tuning = deps.tuning;
    this.connectTimeoutMs = deps.connectTimeoutMs;
  }

  readonly listenerError = (err: unknown): void => {
    this.log('listener.threw', { name: err instanceof Error ? err.name : 'unknown' });
  };

  open(): void {
    if (this.closed) throw new ClientError('CLOSED', 'the client is closed');
  }

  keys(): Keys {
    this.open();
    if (!this.identity) throw new ClientError('NOT_INITIALIZED', 'this profile has no identity yet (run init first)');
    return this.identity;
  }

  contactRow(contactId: string): ContactRow {
    const row = this.store.getContact(contactId);
    if (!row) throw new ClientError('UNKNOWN_CONTACT', 'no such contact');
    return row;
  }

  contactOf(row: ContactRow): Contact {
    const pigeonId = this.pigeonIds.get(row.id) ?? formatPigeonId(fromHex(row.id));
    return { id: row.id, name: row.name, pigeonId, relayUrl: row.relayUrl, verified: row.verified, addedAt: row.addedAt, keyChanged: this.keyChangePending(row.id) };
  }

  keyChangePending(contactId: string): boolean {
    return this.store.listSafetyEvents(contactId).some((e) => !e.acknowledged);
  }

  async rememberPigeonId(contactId: string): Promise<void> {
    if (!this.pigeonIds.has(contactId)) this.pigeonIds.set(contactId, formatPigeonId(fromHex(contactId)));
  }

  /** Without the open/closed guard: used while a receive in flight finishes during close(). */
  receiptSettings(): ReceiptSettings {
    return {
      deliveryReceipts: this.store.getState(DELIVERY_RECEIPTS_KEY) !== 'off',
      readReceipts: this.store.getState(READ_RECEIPTS_KEY) !== 'off',
    };
  }

  /** Never lets key material out through JSON.stringify or inspect. */
  toJSON(): unknown {
    return { type: 'ClientCore', profile: this.identity?.profile ?? null, closed: this.closed };
  }

  [INSPECT](): unknown {
    return this.toJSON();
  }
}
