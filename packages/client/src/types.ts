/** Public data types of the SDK (the contract in docs: client API). */

export type ConnectionState = 'offline' | 'connecting' | 'connected';
export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'failed';

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
}

export interface SafetyNumber {
  /** 60 digits. */
  readonly digits: string;
  /** 12 groups of 5 digits. */
  readonly display: string;
  /** What the QR code shows; the other side compares it with verifySafetyNumberQr. */
  readonly qrPayload: Uint8Array;
}

export type Logger = (event: string, fields?: Record<string, unknown>) => void;
