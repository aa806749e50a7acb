/**
 * ClientStore: everything the SDK persists, behind a small synchronous interface.
 *
 * Synchronous on purpose: the SDK runs each state change (session record + consumed prekeys +
 * message + outbox) inside `transaction(fn)`, after all the async cryptography is done, so a
 * crash leaves either all of it or none of it. better-sqlite3 (Node) and SQLite-WASM with OPFS
 * sync access handles (browser worker) are both synchronous; an adapter over an async store must
 * keep a write-through mirror. Every adapter passes test/store-conformance.ts.
 *
 * Byte fields are Uint8Array; ids are lowercase hex strings. Rows holding private keys
 * (identity, prekeys, sessions) are opaque encoded blobs produced by @pigeon/protocol.
 */
import type { DeliveryState } from '../types.js';
import type { MessageLifeStore } from './message-life-types.js';

export type * from './message-life-types.js';

export interface IdentityRow {
  readonly accountKeys: Uint8Array;
  readonly deviceKeys: Uint8Array;
  readonly displayName: string;
  readonly relayUrl: string;
  readonly deliveryToken: Uint8Array;
  readonly createdAt: number;
}

export type PreKeyKind = 'signed' | 'one_time' | 'kem';

export interface ContactRow {
  readonly id: string;
  readonly name: string;
  readonly accountKey: Uint8Array;
  readonly relayUrl: string;
  readonly deliveryToken: Uint8Array;
  readonly verified: boolean;
  readonly addedAt: number;
}

export interface ContactDeviceRow {
  readonly contactId: string;
  readonly deviceId: string;
  /** Encoded DeviceCertificate. */
  readonly certificate: Uint8Array;
}

export interface MessageRow {
  readonly id: string;
  readonly contactId: string;
  readonly direction: 'in' | 'out';
  readonly text: string;
  readonly sentAt: number;
  readonly receivedAt: number | null;
  readonly state: DeliveryState;
  readonly read: boolean;
}

export interface OutboxRow {
  /** The random relay message id; resending the SAME id and bytes lets the relay dedupe. */
  readonly relayMessageId: string;
  /** The content id of the text message, or null for receipts and introductions. */
  readonly messageId: string | null;
  readonly contactId: string;
  readonly recipientDeviceId: string;
  readonly relayUrl: string;
  readonly deliveryToken: Uint8Array;
  /** The sealed envelope, exactly as first sent. */
  readonly envelope: Uint8Array;
  readonly createdAt: number;
}

/** See SafetyEvent in ../types.ts. */
export interface SafetyEventRow {
  /** hex */
  readonly id: string;
  readonly contactId: string;
  readonly kind: 'key_changed';
  readonly deviceId: string;
  readonly at: number;
  readonly acknowledged: boolean;
}

/** Message life (replies, reactions, edits, deletes, timers, blocks, requests): ./message-life-types.ts. */
export interface ClientStore extends MessageLifeStore {
  /** Runs fn atomically; a throw rolls everything back and is rethrown. Nested calls join the outer one. */
  transaction<T>(fn: () => T): T;

  getIdentity(): IdentityRow | undefined;
  putIdentity(row: IdentityRow): void;

  putPreKey(kind: PreKeyKind, id: number, data: Uint8Array): void;
  getPreKey(kind: PreKeyKind, id: number): Uint8Array | undefined;
  deletePreKey(kind: PreKeyKind, id: number): void;

  getSession(deviceId: string): Uint8Array | undefined;
  putSession(deviceId: string, contactId: string, record: Uint8Array): void;

  listContacts(): ContactRow[];
  getContact(id: string): ContactRow | undefined;
  putContact(row: ContactRow): void;
  listContactDevices(contactId: string): ContactDeviceRow[];
  putContactDevice(row: ContactDeviceRow): void;

  putInvite(secret: string, createdAt: number): void;
  /** The creation time of an outstanding invite. */
  getInvite(secret: string): number | undefined;
  deleteInvite(secret: string): void;

  getMessage(id: string): MessageRow | undefined;
  insertMessage(row: MessageRow): void;
  /** Oldest first; with a limit, the newest `limit` messages (still oldest first). */
  listMessages(contactId: string, limit?: number): MessageRow[];
  listUnread(): MessageRow[];
  setMessageState(id: string, state: DeliveryState): void;
  markRead(ids: readonly string[]): void;

  putOutbox(row: OutboxRow): void;
  /** Oldest first. */
  listOutbox(): OutboxRow[];
  deleteOutbox(relayMessageId: string): void;
  countOutbox(messageId?: string): number;

  /** Content ids already received (duplicate suppression). Returns false if the id was already seen. */
  markSeen(id: string, at: number): boolean;
  hasSeen(id: string): boolean;

  /** Safety events (key changes) of one contact, oldest first. */
  addSafetyEvent(row: SafetyEventRow): void;
  listSafetyEvents(contactId: string): SafetyEventRow[];
  /** Marks every event of the contact acknowledged. */
  acknowledgeSafetyEvents(contactId: string): void;

  getState(key: string): string | undefined;
  setState(key: string, value: string): void;

  close(): void;
}
