/**
 * GroupStore: what the SDK keeps about groups, beside the ClientStore (docs/protocol.md §12.5
 * "local storage"). Synchronous like ClientStore, and every write happens inside
 * `ClientStore.transaction(fn)`: adapters share the ClientStore's database (SQLite: the same
 * connection, migration 4+; see sqlite-group-store.node.ts) so a group change commits together
 * with the session record that carried it. MemoryGroupStore is for tests and platforms that
 * have no group tables yet (its content is lost on restart).
 */
import type { DeliveryState } from '../types.js';

export interface GroupRow {
  /** hex group id (32 bytes). */
  readonly id: string;
  /** protocol encodeGroupState. */
  readonly state: Uint8Array;
  /** Our sending key (protocol encodeSenderKeyState), null until the first send or after a rekey. */
  readonly ownKey: Uint8Array | null;
  /** hex secret of the group's invite link (admins), null when none was made. */
  readonly inviteSecret: string | null;
  /** False after we left or were removed: nothing is sent, incoming messages are dropped. */
  readonly active: boolean;
  readonly createdAt: number;
}

export interface GroupMessageRow {
  /** hex content id, the same on every device. */
  readonly id: string;
  readonly groupId: string;
  /** Account id (hex) of the author. */
  readonly senderId: string;
  readonly direction: 'in' | 'out';
  readonly text: string;
  readonly sentAt: number;
  readonly receivedAt: number | null;
  readonly state: DeliveryState;
  readonly read: boolean;
}

/** A payload that cannot be used yet (its group, parent change or sender is not known): retried after each group update. */
export interface HeldPayloadRow {
  readonly seq: number;
  readonly groupId: string;
  /** Encoded DeviceCertificate of the sender (authenticated by sealed sender + the pairwise session). */
  readonly sender: Uint8Array;
  readonly payload: Uint8Array;
  readonly at: number;
}

/** What a member said about one of our group messages (docs/protocol.md §12.8). */
export interface GroupReceiptRow {
  readonly messageId: string;
  /** Account id (hex) of the member that sent the receipt. */
  readonly memberId: string;
  readonly state: 'delivered' | 'read';
  readonly at: number;
}

/**
 * Which sender key carried one of our group messages (one row per copy: a message re-sent to a
 * member that could not use the first copy gets another row), so a member that asks for a copy
 * again names it by distribution id + iteration (§12.9).
 */
export interface GroupSentRow {
  readonly groupId: string;
  readonly messageId: string;
  /** hex distribution id of the sender key. */
  readonly distributionId: string;
  readonly iteration: number;
  /** The roster epoch we sent at: members who joined at or before it are the message's audience. */
  readonly epoch: number;
}

export interface GroupStore {
  getGroup(id: string): GroupRow | undefined;
  putGroup(row: GroupRow): void;
  listGroups(): GroupRow[];

  getSenderKey(groupId: string, senderDeviceId: string, distributionId: string): Uint8Array | undefined;
  putSenderKey(groupId: string, senderDeviceId: string, distributionId: string, key: Uint8Array): void;
  /** Drops every received key of the group (after we were removed). */
  deleteSenderKeys(groupId: string): void;

  /** Returns false when a message with this id is already stored. */
  insertMessage(row: GroupMessageRow): boolean;
  getMessage(id: string): GroupMessageRow | undefined;
  /** Oldest first; with a limit, the newest `limit` (still oldest first). */
  listMessages(groupId: string, limit?: number): GroupMessageRow[];
  listUnread(): GroupMessageRow[];
  markRead(ids: readonly string[]): void;
  setMessageState(id: string, state: DeliveryState): void;

  hold(row: Omit<HeldPayloadRow, 'seq'>): void;
  listHeld(groupId: string): HeldPayloadRow[];
  countHeld(groupId: string): number;
  deleteHeld(seq: number): void;

  /** Upserts a member's receipt, only forward: a 'delivered' never replaces a stored 'read'. */
  putReceipt(row: GroupReceiptRow): void;
  /** The receipts of one message, ordered by member id. */
  listReceipts(messageId: string): GroupReceiptRow[];
  /** Receipts of one message at least this far along ('delivered' counts 'read' too). */
  countReceipts(messageId: string, atLeast: 'delivered' | 'read'): number;

  /** Inserts (or replaces) the row of one sent copy (key: groupId + distributionId + iteration). */
  putSent(row: GroupSentRow): void;
  findSent(groupId: string, distributionId: string, iteration: number): GroupSentRow | undefined;
  /** Every copy of one message, oldest epoch first. */
  listSent(messageId: string): GroupSentRow[];
}

export class MemoryGroupStore implements GroupStore {
  readonly #groups = new Map<string, GroupRow>();
  readonly #keys = new Map<string, Uint8Array>();
  readonly #messages = new Map<string, GroupMessageRow>();
  readonly #held = new Map<number, HeldPayloadRow>();
  readonly #receipts = new Map<string, GroupReceiptRow>();
  readonly #sent = new Map<string, GroupSentRow>();
  #seq = 0;

  getGroup(id: string): GroupRow | undefined {
    return this.#groups.get(id);
  }
  putGroup(row: GroupRow): void {
    this.#groups.set(row.id, row);
  }
  listGroups(): GroupRow[] {
    return [...this.#groups.values()].sort((a, b) => a.createdAt - b.createdAt);
  }
  getSenderKey(groupId: string, senderDeviceId: string, distributionId: string): Uint8Array | undefined {
    return this.#keys.get(`${groupId}/${senderDeviceId}/${distributionId}`);
  }
  putSenderKey(groupId: string, senderDeviceId: string, distributionId: string, key: Uint8Array): void {
    this.#keys.set(`${groupId}/${senderDeviceId}/${distributionId}`, key);
  }
  deleteSenderKeys(groupId: string): void {
    for (const k of [...this.#keys.keys()]) if (k.startsWith(`${groupId}/`)) this.#keys.delete(k);
  }
  insertMessage(row: GroupMessageRow): boolean {
    if (this.#messages.has(row.id)) return false;
    this.#messages.set(row.id, row);
    return true;
  }
  getMessage(id: string): GroupMessageRow | undefined {
    return this.#messages.get(id);
  }
  listMessages(groupId: string, limit?: number): GroupMessageRow[] {
    const all = [...this.#messages.values()].filter((m) => m.groupId === groupId).sort((a, b) => a.sentAt - b.sentAt);
    return limit === undefined ? all : all.slice(Math.max(0, all.length - limit));
  }
  listUnread(): GroupMessageRow[] {
    return [...this.#messages.values()].filter((m) => m.direction === 'in' && !m.read).sort((a, b) => a.sentAt - b.sentAt);
  }
  markRead(ids: readonly string[]): void {
    for (const id of ids) {
      const m = this.#messages.get(id);
      if (m) this.#messages.set(id, { ...m, read: true });
    }
  }
  setMessageState(id: string, state: DeliveryState): void {
    const m = this.#messages.get(id);
    if (m) this.#messages.set(id, { ...m, state });
  }
  hold(row: Omit<HeldPayloadRow, 'seq'>): void {
    const seq = ++this.#seq;
    this.#held.set(seq, { ...row, seq });
  }
  listHeld(groupId: string): HeldPayloadRow[] {
    return [...this.#held.values()].filter((h) => h.groupId === groupId);
  }
  countHeld(groupId: string): number {
    return this.listHeld(groupId).length;
  }
  deleteHeld(seq: number): void {
    this.#held.delete(seq);
  }
  putReceipt(row: GroupReceiptRow): void {
    const key = `${row.messageId}/${row.memberId}`;
    if (this.#receipts.get(key)?.state === 'read' && row.state === 'delivered') return;
    this.#receipts.set(key, row);
  }
  listReceipts(messageId: string): GroupReceiptRow[] {
    return [...this.#receipts.values()].filter((r) => r.messageId === messageId).sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  }
  countReceipts(messageId: string, atLeast: 'delivered' | 'read'): number {
    return this.listReceipts(messageId).filter((r) => atLeast === 'delivered' || r.state === 'read').length;
  }
  putSent(row: GroupSentRow): void {
    this.#sent.set(`${row.groupId}/${row.distributionId}/${row.iteration}`, row);
  }
  findSent(groupId: string, distributionId: string, iteration: number): GroupSentRow | undefined {
    return this.#sent.get(`${groupId}/${distributionId}/${iteration}`);
  }
  listSent(messageId: string): GroupSentRow[] {
    return [...this.#sent.values()].filter((r) => r.messageId === messageId).sort((a, b) => a.epoch - b.epoch);
  }
}
