/**
 * The SDK's GroupStore over the IndexedDB profile: its rows live in the IdbClientStore's mirror
 * (tables group, gkey, gmsg, gheld of the same object store), so a group change is part of the
 * same `ClientStore.transaction` as the session record that carried it: one undo log on
 * rollback, one IndexedDB transaction on commit, and the socket's persistence barrier covers it.
 * Sender keys (ours and received) and held payloads are sealed at rest (SECRET_FIELDS).
 */
import type { DeliveryState, GroupMessageRow, GroupReceiptRow, GroupRow, GroupSentRow, GroupStore, HeldPayloadRow } from '@pigeon/client';
import type { IdbClientStore, SharedTables } from './idb-store.js';

const keyOf = (groupId: string, senderDeviceId: string, distributionId: string) => `${groupId}/${senderDeviceId}/${distributionId}`;
const byIdTieBreak = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class IdbGroupStore implements GroupStore {
  readonly #t: SharedTables;
  /** Next held-payload sequence number (gaps after a rollback are harmless: only the order matters). */
  #heldSeq = 1;

  constructor(store: IdbClientStore) {
    this.#t = store.sharedTables();
    for (const [, e] of this.#t.entries('gheld')) this.#heldSeq = Math.max(this.#heldSeq, (e.v as HeldPayloadRow).seq + 1);
  }

  getGroup(id: string): GroupRow | undefined {
    return this.#t.get<GroupRow>('group', id);
  }
  putGroup(row: GroupRow): void {
    // Like SQLite's upsert: createdAt is the first one (a group keeps its place in the list).
    const prev = this.getGroup(row.id);
    this.#t.write('group', row.id, { ...row, createdAt: prev?.createdAt ?? row.createdAt });
  }
  listGroups(): GroupRow[] {
    return [...this.#t.entries('group')].map(([, e]) => e.v as GroupRow).sort((a, b) => a.createdAt - b.createdAt || byIdTieBreak(a.id, b.id));
  }

  getSenderKey(groupId: string, senderDeviceId: string, distributionId: string): Uint8Array | undefined {
    return this.#t.get<Uint8Array>('gkey', keyOf(groupId, senderDeviceId, distributionId));
  }
  putSenderKey(groupId: string, senderDeviceId: string, distributionId: string, key: Uint8Array): void {
    this.#t.write('gkey', keyOf(groupId, senderDeviceId, distributionId), key);
  }
  deleteSenderKeys(groupId: string): void {
    const prefix = `${groupId}/`;
    const doomed = [...this.#t.entries('gkey')].map(([k]) => k).filter((k) => k.startsWith(prefix));
    for (const k of doomed) this.#t.write('gkey', k, null);
  }

  insertMessage(row: GroupMessageRow): boolean {
    if (this.#t.has('gmsg', row.id)) return false;
    this.#t.write('gmsg', row.id, { ...row });
    return true;
  }
  getMessage(id: string): GroupMessageRow | undefined {
    return this.#t.get<GroupMessageRow>('gmsg', id);
  }
  #messages(filter: (m: GroupMessageRow) => boolean): GroupMessageRow[] {
    const out: GroupMessageRow[] = [];
    for (const [, e] of this.#t.entries('gmsg')) {
      const m = e.v as GroupMessageRow;
      if (filter(m)) out.push(m);
    }
    // sentAt, then id: the order SQLite gives (sqlite-group-store.node.ts).
    return out.sort((a, b) => a.sentAt - b.sentAt || byIdTieBreak(a.id, b.id));
  }
  listMessages(groupId: string, limit?: number): GroupMessageRow[] {
    const all = this.#messages((m) => m.groupId === groupId);
    return limit === undefined ? all : all.slice(Math.max(0, all.length - limit));
  }
  listUnread(): GroupMessageRow[] {
    return this.#messages((m) => m.direction === 'in' && !m.read);
  }
  markRead(ids: readonly string[]): void {
    for (const id of ids) {
      const m = this.getMessage(id);
      if (m && !m.read) this.#t.write('gmsg', id, { ...m, read: true });
    }
  }
  setMessageState(id: string, state: DeliveryState): void {
    const m = this.getMessage(id);
    if (m) this.#t.write('gmsg', id, { ...m, state });
  }

  hold(row: Omit<HeldPayloadRow, 'seq'>): void {
    const seq = this.#heldSeq++;
    this.#t.write('gheld', String(seq), { ...row, seq } satisfies HeldPayloadRow);
  }
  listHeld(groupId: string): HeldPayloadRow[] {
    const out: HeldPayloadRow[] = [];
    for (const [, e] of this.#t.entries('gheld')) {
      const h = e.v as HeldPayloadRow;
      if (h.groupId === groupId) out.push(h);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
  countHeld(groupId: string): number {
    let n = 0;
    for (const [, e] of this.#t.entries('gheld')) if ((e.v as HeldPayloadRow).groupId === groupId) n++;
    return n;
  }
  deleteHeld(seq: number): void {
    if (this.#t.has('gheld', String(seq))) this.#t.write('gheld', String(seq), null);
  }

  // Receipts and sent copies (the SDK's schema 6): small rows, filtered by scan like the messages.
  putReceipt(row: GroupReceiptRow): void {
    const key = `${row.messageId}/${row.memberId}`;
    // Only forward: a late delivery receipt keeps a stored 'read'.
    if (this.#t.get<GroupReceiptRow>('grcpt', key)?.state === 'read' && row.state === 'delivered') return;
    this.#t.write('grcpt', key, { ...row });
  }
  listReceipts(messageId: string): GroupReceiptRow[] {
    const out: GroupReceiptRow[] = [];
    for (const [, e] of this.#t.entries('grcpt')) {
      const r = e.v as GroupReceiptRow;
      if (r.messageId === messageId) out.push(r);
    }
    return out.sort((a, b) => byIdTieBreak(a.memberId, b.memberId));
  }
  countReceipts(messageId: string, atLeast: 'delivered' | 'read'): number {
    return this.listReceipts(messageId).filter((r) => atLeast === 'delivered' || r.state === 'read').length;
  }
  putSent(row: GroupSentRow): void {
    this.#t.write('gsent', `${row.groupId}/${row.distributionId}/${row.iteration}`, { ...row });
  }
  findSent(groupId: string, distributionId: string, iteration: number): GroupSentRow | undefined {
    return this.#t.get<GroupSentRow>('gsent', `${groupId}/${distributionId}/${iteration}`);
  }
  listSent(messageId: string): GroupSentRow[] {
    const out: GroupSentRow[] = [];
    for (const [, e] of this.#t.entries('gsent')) {
      const r = e.v as GroupSentRow;
      if (r.messageId === messageId) out.push(r);
    }
    return out.sort((a, b) => a.epoch - b.epoch);
  }
}
