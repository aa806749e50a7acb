/** Public group types of the SDK (client.groups). */
import type { DeliveryState } from '../types.js';

export interface GroupMemberInfo {
  /** The member's account id, hex (a contact id when the member is a contact). */
  readonly id: string;
  readonly pigeonId: string;
  /** The contact's name, 'you' for ourselves, or the Pigeon ID when the member is not a contact. */
  readonly name: string;
  readonly admin: boolean;
  readonly self: boolean;
  readonly devices: number;
}

export interface Group {
  /** hex, 32 bytes. */
  readonly id: string;
  readonly name: string;
  readonly epoch: number;
  readonly members: readonly GroupMemberInfo[];
  /** We are an admin (may add, remove, rename, promote). */
  readonly isAdmin: boolean;
  /** False after we left or were removed. */
  readonly active: boolean;
  readonly createdAt: number;
}

export interface GroupMessage {
  readonly id: string;
  readonly groupId: string;
  /** Account id (hex) of the author (ours for messages we sent, from any of our devices). */
  readonly senderId: string;
  readonly senderName: string;
  readonly direction: 'in' | 'out';
  readonly text: string;
  readonly sentAt: number;
  readonly receivedAt: number | null;
  /**
   * Outgoing: queued until every member device's envelope settled at the relay, then sent;
   * delivered / read once EVERY member it was sent to (and who is still a member) has at least
   * one device that got / read it (per member: groups.receipts(id)). Incoming: delivered.
   */
  readonly state: DeliveryState;
  readonly read: boolean;
}

/** What one member said about one of our group messages (groups.receipts(id)). */
export interface GroupReceipt {
  /** The member's account id (hex). */
  readonly memberId: string;
  readonly name: string;
  /** At least one of its devices got the message (true as well once read). */
  readonly delivered: boolean;
  readonly read: boolean;
  /** When the latest receipt from it arrived (null: none yet). */
  readonly at: number | null;
}

/** Why a group changed (the 'group' event). */
export type GroupEventKind = 'created' | 'joined' | 'changed' | 'removed';

export interface GroupEvent {
  readonly kind: GroupEventKind;
  readonly group: Group;
}
