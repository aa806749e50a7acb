/**
 * The seam between the PigeonClient core and its feature modules (groups/, devices/): what a
 * feature may use of the client's private machinery, and how it receives the content types it
 * owns. Not part of the public API. Every method documented "lock-free" must be called from
 * inside `serial` (the ratchet read-modify-write queue, see client.ts).
 */
import type { CryptoBackend } from '@pigeon/crypto';
import type { AccountKeys, DeviceCertificate, DeviceKeys } from '@pigeon/protocol';
import type { Content } from './content.js';
import type { ClientStore } from './store/types.js';
import type { Logger, Profile } from './types.js';

/** Who gets a sealed copy: every reachable device of a contact, or only the listed device ids. */
export interface SendTarget {
  /** A contact id, or our own account id for our other devices. */
  readonly contactId: string;
  readonly deviceIds?: ReadonlySet<string>;
}

export interface SendOutcome {
  /** Envelopes queued. */
  readonly envelopes: number;
  /** Targets none of whose devices could be reached (no contact, no bundle, key change pending is NOT checked here). */
  readonly unreachable: readonly string[];
}

/** What a contact needs to be reachable (the same as an invite link carries). */
export interface ContactCard {
  readonly accountKey: Uint8Array;
  readonly name: string;
  readonly relayUrl: string;
  readonly deliveryToken: Uint8Array;
}

export interface ClientInternals {
  readonly store: ClientStore;
  readonly crypto: CryptoBackend;
  now(): number;
  readonly log: Logger;
  /** Runs a task in the client's serial queue. */
  serial<T>(task: () => Promise<T>): Promise<T>;
  /** Throws NOT_INITIALIZED / CLOSED. `account` is null on a linked device (the account secret stays on its first device). */
  keys(): { readonly account: AccountKeys | null; readonly accountKey: Uint8Array; readonly device: DeviceKeys; readonly profile: Profile };
  /**
   * Lock-free. Seals `content` for each target (starting sessions from fresh bundles where needed),
   * then commits every envelope and session in ONE transaction together with `commit()`, and pumps
   * the outbox. A target that cannot be reached is reported, not thrown.
   */
  sendContent(targets: readonly SendTarget[], content: Content, messageId: string | null, commit?: () => void): Promise<SendOutcome>;
  /** Adds a contact from a card if we do not know the account yet (true when added); bad cards are refused (BAD_ARGUMENT). */
  ensureContact(card: ContactCard): Promise<boolean>;
  /** Our card, as others need it to reach us. */
  ownCard(): ContactCard;
  /** The device may be sent to / heard from: the account's held signed list names it (or none is held). */
  isListed(accountId: string, certificate: DeviceCertificate): boolean;
  /** Outbox envelopes still waiting for the relay (for one content id). */
  countOutbox(messageId: string): number;
  /**
   * Calls `fn` when the last outbox envelope of a content id that is not a one-to-one message
   * settled (`accepted`: the relay took at least one copy). Runs outside the serial queue.
   */
  onSettled(fn: (messageId: string, accepted: boolean) => void): void;
  /** The receipt switches (client.setReceiptSettings), read without the open/closed guard. */
  receiptSettings(): { readonly deliveryReceipts: boolean; readonly readReceipts: boolean };
}

export interface ExtensionInput {
  readonly content: Content;
  /** Authenticated by sealed sender and the pairwise session. */
  readonly sender: DeviceCertificate;
  /** hex account id and device id of the sender. */
  readonly senderId: string;
  readonly senderDeviceId: string;
  /** The sender is a contact. */
  readonly known: boolean;
  /** The sender is one of our own other devices. */
  readonly self: boolean;
  readonly now: number;
}

/** A feature's answer to a content it owns: `commit` joins the receive transaction; `after` runs after the ack, still in the serial queue. */
export interface ExtensionResult {
  commit(): void;
  after?(): Promise<void>;
}

export type ExtensionHandler = (input: ExtensionInput) => Promise<ExtensionResult | null>;
