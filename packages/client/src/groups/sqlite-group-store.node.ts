/**
 * GroupStore over the profile's SQLite database (the same better-sqlite3 connection as the
 * SqliteClientStore, so `ClientStore.transaction` covers group writes too). Tables come from
 * the groups migration in store/sqlite-migrations.ts.
 */
import type Database from 'better-sqlite3';
import type { DeliveryState } from '../types.js';
import type { GroupMessageRow, GroupReceiptRow, GroupRow, GroupSentRow, GroupStore, HeldPayloadRow } from './store.js';

type Row = Record<string, unknown>;
const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function groupOf(r: Row): GroupRow {
  return {
    id: r.id as string,
    state: bytes(r.state),
    ownKey: r.own_key === null ? null : bytes(r.own_key),
    inviteSecret: (r.invite_secret as string | null) ?? null,
    active: r.active === 1,
    createdAt: r.created_at as number,
  };
}

function sentOf(r: Row): GroupSentRow {
  return { groupId: r.group_id as string, messageId: r.message_id as string, distributionId: r.distribution_id as string, iteration: r.iteration as number, epoch: r.epoch as number };
}

function messageOf(r: Row): GroupMessageRow {
  return {
    id: r.id as string,
    groupId: r.group_id as string,
    senderId: r.sender_id as string,
    direction: r.direction as 'in' | 'out',
    text: r.text as string,
    sentAt: r.sent_at as number,
    receivedAt: (r.received_at as number | null) ?? null,
    state: r.state as DeliveryState,
    read: r.read === 1,
  };
}

export class SqliteGroupStore implements GroupStore {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  getGroup(id: string): GroupRow | undefined {
    const r = this.prepare('SELECT * FROM groups WHERE id = ?').get(id) as Row | undefined;
    return r && groupOf(r);
  }
  putGroup(row: GroupRow): void {
    this.prepare(
      `INSERT INTO groups (id, state, own_key, invite_secret, active, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, own_key = excluded.own_key,
         invite_secret = excluded.invite_secret, active = excluded.active`,
    ).run(row.id, buf(row.state), row.ownKey && buf(row.ownKey), row.inviteSecret, row.active ? 1 : 0, row.createdAt);
  }
  listGroups(): GroupRow[] {
    return (this.prepare('SELECT * FROM groups ORDER BY created_at, id').all() as Row[]).map(groupOf);
  }

  getSenderKey(groupId: string, senderDeviceId: string, distributionId: string): Uint8Array | undefined {
    const r = this.prepare('SELECT key FROM group_sender_keys WHERE group_id = ? AND sender_device_id = ? AND distribution_id = ?').get(
      groupId,
      senderDeviceId,
      distributionId,
    ) as Row | undefined;
    return r && bytes(r.key);
  }
  putSenderKey(groupId: string, senderDeviceId: string, distributionId: string, key: Uint8Array): void {
    this.prepare(
      `INSERT INTO group_sender_keys (group_id, sender_device_id, distribution_id, key) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id, sender_device_id, distribution_id) DO UPDATE SET key = excluded.key`,
    ).run(groupId, senderDeviceId, distributionId, buf(key));
  }
  deleteSenderKeys(groupId: string): void {
    this.prepare('DELETE FROM group_sender_keys WHERE group_id = ?').run(groupId);
  }

  insertMessage(row: GroupMessageRow): boolean {
    const info = this.prepare(
      `INSERT OR IGNORE INTO group_messages (id, group_id, sender_id, direction, text, sent_at, received_at, state, read)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(row.id, row.groupId, row.senderId, row.direction, row.text, row.sentAt, row.receivedAt, row.state, row.read ? 1 : 0);
    return info.changes > 0;
  }
  getMessage(id: string): GroupMessageRow | undefined {
    const r = this.prepare('SELECT * FROM group_messages WHERE id = ?').get(id) as Row | undefined;
    return r && messageOf(r);
  }
  listMessages(groupId: string, limit?: number): GroupMessageRow[] {
    if (limit === undefined) {
      return (this.prepare('SELECT * FROM group_messages WHERE group_id = ? ORDER BY sent_at, id').all(groupId) as Row[]).map(messageOf);
    }
    const rows = this.prepare('SELECT * FROM group_messages WHERE group_id = ? ORDER BY sent_at DESC, id DESC LIMIT ?').all(groupId, limit) as Row[];
    return rows.reverse().map(messageOf);
  }
  listUnread(): GroupMessageRow[] {
    return (this.prepare("SELECT * FROM group_messages WHERE direction = 'in' AND read = 0 ORDER BY sent_at, id").all() as Row[]).map(messageOf);
  }
  markRead(ids: readonly string[]): void {
    const stmt = this.prepare('UPDATE group_messages SET read = 1 WHERE id = ?');
    for (const id of ids) stmt.run(id);
  }
  setMessageState(id: string, state: DeliveryState): void {
    this.prepare('UPDATE group_messages SET state = ? WHERE id = ?').run(state, id);
  }

  hold(row: Omit<HeldPayloadRow, 'seq'>): void {
    this.prepare('INSERT INTO group_held (group_id, sender, payload, at) VALUES (?, ?, ?, ?)').run(row.groupId, buf(row.sender), buf(row.payload), row.at);
  }
  listHeld(groupId: string): HeldPayloadRow[] {
    return (this.prepare('SELECT * FROM group_held WHERE group_id = ? ORDER BY seq').all(groupId) as Row[]).map((r) => ({
      seq: r.seq as number,
      groupId: r.group_id as string,
      sender: bytes(r.sender),
      payload: bytes(r.payload),
      at: r.at as number,
    }));
  }
  countHeld(groupId: string): number {
    return (this.prepare('SELECT COUNT(*) AS n FROM group_held WHERE group_id = ?').get(groupId) as { n: number }).n;
  }
  deleteHeld(seq: number): void {
    this.prepare('DELETE FROM group_held WHERE seq = ?').run(seq);
  }

  putReceipt(row: GroupReceiptRow): void {
    // Only forward: a late delivery receipt keeps a stored 'read'.
    this.prepare(
      `INSERT INTO group_receipts (message_id, member_id, state, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (message_id, member_id) DO UPDATE SET state = excluded.state, at = excluded.at
       WHERE NOT (group_receipts.state = 'read' AND excluded.state = 'delivered')`,
    ).run(row.messageId, row.memberId, row.state, row.at);
  }
  listReceipts(messageId: string): GroupReceiptRow[] {
    return (this.prepare('SELECT * FROM group_receipts WHERE message_id = ? ORDER BY member_id').all(messageId) as Row[]).map((r) => ({
      messageId: r.message_id as string,
      memberId: r.member_id as string,
      state: r.state as 'delivered' | 'read',
      at: r.at as number,
    }));
  }
  countReceipts(messageId: string, atLeast: 'delivered' | 'read'): number {
    const sql = atLeast === 'read' ? "SELECT COUNT(*) AS n FROM group_receipts WHERE message_id = ? AND state = 'read'" : 'SELECT COUNT(*) AS n FROM group_receipts WHERE message_id = ?';
    return (this.prepare(sql).get(messageId) as { n: number }).n;
  }

  putSent(row: GroupSentRow): void {
    this.prepare(
      `INSERT INTO group_sent (group_id, distribution_id, iteration, message_id, epoch) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (group_id, distribution_id, iteration) DO UPDATE SET message_id = excluded.message_id, epoch = excluded.epoch`,
    ).run(row.groupId, row.distributionId, row.iteration, row.messageId, row.epoch);
  }
  findSent(groupId: string, distributionId: string, iteration: number): GroupSentRow | undefined {
    const r = this.prepare('SELECT * FROM group_sent WHERE group_id = ? AND distribution_id = ? AND iteration = ?').get(groupId, distributionId, iteration) as Row | undefined;
    return r && sentOf(r);
  }
  listSent(messageId: string): GroupSentRow[] {
    return (this.prepare('SELECT * FROM group_sent WHERE message_id = ? ORDER BY epoch, distribution_id, iteration').all(messageId) as Row[]).map(sentOf);
  }
}
