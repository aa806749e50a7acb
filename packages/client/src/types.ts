/** Public data types of the SDK (the contract in docs: client API). */

export type ConnectionState = 'offline' | 'connecting' | 'connected';
/**
 * queued (in the outbox) -> sent (the relay has every envelope) -> delivered (a delivery receipt)
 * -> read (a read receipt). States only move forward: a late delivery receipt never turns 'read'
 * back into 'delivered'. 'failed' is a permanent relay refusal.
 */
export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Profile {
  readonly pigeonId: string;
  readonly displayName: string;
  readonly relayUrl: string;
  /** hex */
  readonly accountId: string;
  /** hex */
  readonly deviceId: string;
}

export interface Contact {
  /** The contact's account id, hex. */
  readonly id: string;
  readonly name: string;
  readonly pigeonId: string;
  readonly relayUrl: string;
  readonly verified: boolean;
  readonly addedAt: number;
  /**
   * True while a key change (a device identity we had not seen under this account key) waits
   * for the user's acknowledgement; `send` refuses with IDENTITY_CHANGED until then.
   */
  readonly keyChanged: boolean;
}

export interface StoredMessage {
  /** hex, the content message id (the same on both sides). */
  readonly id: string;
  readonly contactId: string;
  readonly direction: 'in' | 'out';
  readonly text: string;
  readonly sentAt: number;
  readonly receivedAt: number | null;
  /** Meaningful for outgoing messages; incoming ones are 'delivered'. */
  readonly state: DeliveryState;
  readonly read: boolean;
  // Message life (docs/message-life.md): present only when set.
  /** The message this one replies to, and the start of its text. */
  readonly replyTo?: string;
  readonly quote?: string;
  /** The author edited the text. */
  readonly edited?: boolean;
  /** Deleted for everyone: a tombstone (text is ''). */
  readonly deleted?: boolean;
  /** The disappearing timer it carries, and when it goes (null until read, for incoming). */
  readonly timerMs?: number;
  readonly expiresAt?: number | null;
  readonly reactions?: readonly { readonly senderId: string; readonly emoji: string }[];
}

export interface SafetyNumber {
  /** 60 digits. */
  readonly digits: string;
  /** 12 groups of 5 digits. */
  readonly display: string;
  /** What the QR code shows; the other side compares it with verifySafetyNumberQr. */
  readonly qrPayload: Uint8Array;
}

/** Receipt preferences of this profile (both on by default). */
export interface ReceiptSettings {
  /** Tell senders when their message reached this device. */
  readonly deliveryReceipts: boolean;
  /**
   * Tell senders when their message was read. Reciprocal, as in Signal: with it off we send none
   * AND show others' read receipts as plain 'delivered' (we do not learn what we do not share).
   */
  readonly readReceipts: boolean;
}

/**
 * A safety event: something about a contact's keys the user should know. 'key_changed' means a
 * device identity appeared under the contact's account key that we had not seen before (a new
 * device, a reinstall, or someone holding the account key adding a device).
 */
export interface SafetyEvent {
  readonly id: string;
  readonly contactId: string;
  readonly kind: 'key_changed';
  /** The new device (hex device id). */
  readonly deviceId: string;
  readonly at: number;
  readonly acknowledged: boolean;
}

export type Logger = (event: string, fields?: Record<string, unknown>) => void;
