/**
 * The Node ClientStore: one SQLite file (better-sqlite3, WAL), created with mode 0600
 * because it holds private keys. Schema: ./sqlite-migrations.ts.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ClientError } from '../errors.js';
import type { DeliveryState } from '../types.js';
import { MIGRATIONS, SCHEMA_VERSION } from './sqlite-migrations.js';
import type {
  ClientStore,
  ContactDeviceRow,
  ContactRow,
  IdentityRow,
  MessageRow,
  OutboxRow,
  PreKeyKind,
  SafetyEventRow,
} from './types.js';
import type { BlockRow, MessageMetaRow, ReactionRow, RequestRow } from './message-life-types.js';

type Row = Record<string, unknown>;

const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Applies migrations above the current user_version, up to `target` (tests stop early). */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new ClientError('STORE_ERROR', `database schema ${current} is newer than this version of Pigeon (${SCHEMA_VERSION})`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

function restrictFile(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o600);
}

export interface SqliteStoreOptions {
  /** Stop at this schema version (migration tests only). */
  readonly schemaVersion?: number;
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteClientStore {
  if (path !== ':memory:') {
    // Create the file ourselves so it never exists with a wider mode.
    closeSync(openSync(path, 'a', 0o600));
    restrictFile(path);
  }
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, options.schemaVersion);
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('STORE_ERROR', `cannot open the profile database: ${(cause as Error).message}`, { cause });
  }
  if (path !== ':memory:') {
    restrictFile(`${path}-wal`);
    restrictFile(`${path}-shm`);
  }
  return new SqliteClientStore(db);
}

export class SqliteClientStore implements ClientStore {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn)();
  }

  private get(sql: string, ...params: unknown[]): Row | undefined {
    return this.prepare(sql).get(...params) as Row | undefined;
  }
  private all(sql: string, ...params: unknown[]): Row[] {
    return this.prepare(sql).all(...params) as Row[];
  }
  private run(sql: string, ...params: unknown[]): number {
    return this.prepare(sql).run(...params).changes;
  }

  getIdentity(): IdentityRow | undefined {
    const r = this.get('SELECT * FROM identity WHERE id = 1');
    if (!r) return undefined;
    return {
      accountKeys: bytes(r.account_keys),
      deviceKeys: bytes(r.device_keys),
      displayName: r.display_name as string,
      relayUrl: r.relay_url as string,
      deliveryToken: bytes(r.delivery_token),
      createdAt: r.created_at as number,
    };
  }
  putIdentity(row: IdentityRow): void {
    this.run(
      `INSERT OR REPLACE INTO identity (id, account_keys, device_keys, display_name, relay_url, delivery_token, created_at)
       VALUES (1, ?, ?, ?, ?, ?, ?)`,
      buf(row.accountKeys), buf(row.deviceKeys), row.displayName, row.relayUrl, buf(row.deliveryToken), row.createdAt,
    );
  }

  putPreKey(kind: PreKeyKind, id: number, data: Uint8Array): void {
    this.run('INSERT OR REPLACE INTO prekeys (kind, id, data) VALUES (?, ?, ?)', kind, id, buf(data));
  }
  getPreKey(kind: PreKeyKind, id: number): Uint8Array | undefined {
    const r = this.get('SELECT data FROM prekeys WHERE kind = ? AND id = ?', kind, id);
    return r ? bytes(r.data) : undefined;
  }
  deletePreKey(kind: PreKeyKind, id: number): void {
    this.run('DELETE FROM prekeys WHERE kind = ? AND id = ?', kind, id);
  }

  getSession(deviceId: string): Uint8Array | undefined {
    const r = this.get('SELECT record FROM sessions WHERE device_id = ?', deviceId);
    return r ? bytes(r.record) : undefined;
  }
  putSession(deviceId: string, contactId: string, record: Uint8Array): void {
    this.run('INSERT OR REPLACE INTO sessions (device_id, contact_id, record) VALUES (?, ?, ?)', deviceId, contactId, buf(record));
  }

  private contact(r: Row): ContactRow {
    return {
      id: r.id as string,
      name: r.name as string,
      accountKey: bytes(r.account_key),
      relayUrl: r.relay_url as string,
      deliveryToken: bytes(r.delivery_token),
      verified: r.verified === 1,
      addedAt: r.added_at as number,
    };
  }
  listContacts(): ContactRow[] {
    return this.all('SELECT * FROM contacts ORDER BY added_at, id').map((r) => this.contact(r));
  }
  getContact(id: string): ContactRow | undefined {
    const r = this.get('SELECT * FROM contacts WHERE id = ?', id);
    return r ? this.contact(r) : undefined;
  }
  putContact(row: ContactRow): void {
    this.run(
      `INSERT OR REPLACE INTO contacts (id, name, account_key, relay_url, delivery_token, verified, added_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      row.id, row.name, buf(row.accountKey), row.relayUrl, buf(row.deliveryToken), row.verified ? 1 : 0, row.addedAt,
    );
  }
  listContactDevices(contactId: string): ContactDeviceRow[] {
    return this.all('SELECT * FROM contact_devices WHERE contact_id = ? ORDER BY device_id', contactId).map((r) => ({
      contactId: r.contact_id as string,
      deviceId: r.device_id as string,
      certificate: bytes(r.certificate),
    }));
  }
  putContactDevice(row: ContactDeviceRow): void {
    this.run(
      'INSERT OR REPLACE INTO contact_devices (contact_id, device_id, certificate) VALUES (?, ?, ?)',
      row.contactId, row.deviceId, buf(row.certificate),
    );
  }

  putInvite(secret: string, createdAt: number): void {
    this.run('INSERT OR REPLACE INTO invites (secret, created_at) VALUES (?, ?)', secret, createdAt);
  }
  getInvite(secret: string): number | undefined {
    const r = this.get('SELECT created_at FROM invites WHERE secret = ?', secret);
    return r ? (r.created_at as number) : undefined;
  }
  deleteInvite(secret: string): void {
    this.run('DELETE FROM invites WHERE secret = ?', secret);
  }

  private message(r: Row): MessageRow {
    return {
      id: r.id as string,
      contactId: r.contact_id as string,
      direction: r.direction as 'in' | 'out',
      text: r.text as string,
      sentAt: r.sent_at as number,
      receivedAt: (r.received_at as number | null) ?? null,
      state: r.state as DeliveryState,
      read: r.read === 1,
    };
  }
  getMessage(id: string): MessageRow | undefined {
    const r = this.get('SELECT * FROM messages WHERE id = ?', id);
    return r ? this.message(r) : undefined;
  }
  insertMessage(row: MessageRow): void {
    this.run(
      `INSERT INTO messages (id, contact_id, direction, text, sent_at, received_at, state, read)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id, row.contactId, row.direction, row.text, row.sentAt, row.receivedAt, row.state, row.read ? 1 : 0,
    );
  }
  listMessages(contactId: string, limit?: number): MessageRow[] {
    const rows =
      limit === undefined
        ? this.all('SELECT * FROM messages WHERE contact_id = ? ORDER BY sent_at, rowid', contactId)
        : this.all('SELECT * FROM messages WHERE contact_id = ? ORDER BY sent_at DESC, rowid DESC LIMIT ?', contactId, limit).reverse();
    return rows.map((r) => this.message(r));
  }
  listUnread(): MessageRow[] {
    return this.all("SELECT * FROM messages WHERE direction = 'in' AND read = 0 ORDER BY sent_at, rowid").map((r) => this.message(r));
  }
  setMessageState(id: string, state: DeliveryState): void {
    this.run('UPDATE messages SET state = ? WHERE id = ?', state, id);
  }
  markRead(ids: readonly string[]): void {
    const stmt = this.prepare('UPDATE messages SET read = 1 WHERE id = ?');
    this.transaction(() => {
      for (const id of ids) stmt.run(id);
    });
  }

  putOutbox(row: OutboxRow): void {
    this.run(
      `INSERT OR REPLACE INTO outbox (relay_message_id, message_id, contact_id, recipient_device_id, relay_url, delivery_token, envelope, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.relayMessageId, row.messageId, row.contactId, row.recipientDeviceId, row.relayUrl, buf(row.deliveryToken), buf(row.envelope), row.createdAt,
    );
  }
  listOutbox(): OutboxRow[] {
    return this.all('SELECT * FROM outbox ORDER BY created_at, rowid').map((r) => ({
      relayMessageId: r.relay_message_id as string,
      messageId: (r.message_id as string | null) ?? null,
      contactId: r.contact_id as string,
      recipientDeviceId: r.recipient_device_id as string,
      relayUrl: r.relay_url as string,
      deliveryToken: bytes(r.delivery_token),
      envelope: bytes(r.envelope),
      createdAt: r.created_at as number,
    }));
  }
  deleteOutbox(relayMessageId: string): void {
    this.run('DELETE FROM outbox WHERE relay_message_id = ?', relayMessageId);
  }
  countOutbox(messageId?: string): number {
    const r =
      messageId === undefined
        ? this.get('SELECT COUNT(*) AS n FROM outbox')
        : this.get('SELECT COUNT(*) AS n FROM outbox WHERE message_id = ?', messageId);
    return (r?.n as number | undefined) ?? 0;
  }

  markSeen(id: string, at: number): boolean {
    return this.run('INSERT OR IGNORE INTO seen (id, seen_at) VALUES (?, ?)', id, at) === 1;
  }
  hasSeen(id: string): boolean {
    return this.get('SELECT 1 AS x FROM seen WHERE id = ?', id) !== undefined;
  }

  addSafetyEvent(row: SafetyEventRow): void {
    this.run(
      'INSERT OR REPLACE INTO safety_events (id, contact_id, kind, device_id, at, acknowledged) VALUES (?, ?, ?, ?, ?, ?)',
      row.id, row.contactId, row.kind, row.deviceId, row.at, row.acknowledged ? 1 : 0,
    );
  }
  listSafetyEvents(contactId: string): SafetyEventRow[] {
    return this.all('SELECT * FROM safety_events WHERE contact_id = ? ORDER BY at, rowid', contactId).map((r) => ({
      id: r.id as string,
      contactId: r.contact_id as string,
      kind: r.kind as 'key_changed',
      deviceId: r.device_id as string,
      at: r.at as number,
      acknowledged: r.acknowledged === 1,
    }));
  }
  acknowledgeSafetyEvents(contactId: string): void {
    this.run('UPDATE safety_events SET acknowledged = 1 WHERE contact_id = ?', contactId);
  }

  getState(key: string): string | undefined {
    const r = this.get('SELECT value FROM relay_state WHERE key = ?', key);
    return r ? (r.value as string) : undefined;
  }
  setState(key: string, value: string): void {
    this.run('INSERT OR REPLACE INTO relay_state (key, value) VALUES (?, ?)', key, value);
  }

  // ---- message life (migration 5; message-life-types.ts) ----------------------------------------

  private meta(r: Row): MessageMetaRow {
    return {
      id: r.id as string,
      contactId: r.contact_id as string,
      replyTo: (r.reply_to as string | null) ?? null,
      quote: (r.quote as string | null) ?? null,
      edited: r.edited === 1,
      deleted: r.deleted === 1,
      timerMs: r.timer_ms as number,
      expiresAt: (r.expires_at as number | null) ?? null,
    };
  }
  getMessageMeta(id: string): MessageMetaRow | undefined {
    const r = this.get('SELECT * FROM message_meta WHERE id = ?', id);
    return r ? this.meta(r) : undefined;
  }
  putMessageMeta(row: MessageMetaRow): void {
    this.run(
      `INSERT OR REPLACE INTO message_meta (id, contact_id, reply_to, quote, edited, deleted, timer_ms, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id, row.contactId, row.replyTo, row.quote, row.edited ? 1 : 0, row.deleted ? 1 : 0, row.timerMs, row.expiresAt,
    );
  }
  listExpired(now: number, limit: number): MessageMetaRow[] {
    return this.all('SELECT * FROM message_meta WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, rowid LIMIT ?', now, limit).map((r) => this.meta(r));
  }
  nextExpiry(): number | undefined {
    const r = this.get('SELECT MIN(expires_at) AS t FROM message_meta WHERE expires_at IS NOT NULL');
    return (r?.t as number | null | undefined) ?? undefined;
  }
  setMessageText(id: string, text: string): void {
    this.run('UPDATE messages SET text = ? WHERE id = ?', text, id);
  }
  deleteMessage(id: string): void {
    this.transaction(() => {
      this.run('DELETE FROM messages WHERE id = ?', id);
      this.run('DELETE FROM message_meta WHERE id = ?', id);
      this.run('DELETE FROM reactions WHERE message_id = ?', id);
    });
  }
  putReaction(row: ReactionRow): void {
    this.run('INSERT OR REPLACE INTO reactions (message_id, sender_id, emoji, at) VALUES (?, ?, ?, ?)', row.messageId, row.senderId, row.emoji, row.at);
  }
  deleteReaction(messageId: string, senderId: string): void {
    this.run('DELETE FROM reactions WHERE message_id = ? AND sender_id = ?', messageId, senderId);
  }
  listReactions(messageId: string): ReactionRow[] {
    return this.all('SELECT * FROM reactions WHERE message_id = ? ORDER BY at, rowid', messageId).map((r) => ({
      messageId: r.message_id as string,
      senderId: r.sender_id as string,
      emoji: r.emoji as string,
      at: r.at as number,
    }));
  }
  private block(r: Row): BlockRow {
    return { contactId: r.contact_id as string, at: r.at as number, reported: r.reported === 1, note: r.note as string };
  }
  putBlock(row: BlockRow): void {
    this.run('INSERT OR REPLACE INTO blocks (contact_id, at, reported, note) VALUES (?, ?, ?, ?)', row.contactId, row.at, row.reported ? 1 : 0, row.note);
  }
  getBlock(contactId: string): BlockRow | undefined {
    const r = this.get('SELECT * FROM blocks WHERE contact_id = ?', contactId);
    return r ? this.block(r) : undefined;
  }
  deleteBlock(contactId: string): void {
    this.run('DELETE FROM blocks WHERE contact_id = ?', contactId);
  }
  listBlocks(): BlockRow[] {
    return this.all('SELECT * FROM blocks ORDER BY at, rowid').map((r) => this.block(r));
  }
  private request(r: Row): RequestRow {
    return {
      id: r.id as string,
      accountKey: bytes(r.account_key),
      name: r.name as string,
      relayUrl: (r.relay_url as string | null) ?? null,
      deliveryToken: r.delivery_token === null ? null : bytes(r.delivery_token),
      firstAt: r.first_at as number,
      lastAt: r.last_at as number,
    };
  }
  putRequest(row: RequestRow): void {
    this.run(
      `INSERT OR REPLACE INTO requests (id, account_key, name, relay_url, delivery_token, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      row.id, buf(row.accountKey), row.name, row.relayUrl, row.deliveryToken ? buf(row.deliveryToken) : null, row.firstAt, row.lastAt,
    );
  }
  getRequest(id: string): RequestRow | undefined {
    const r = this.get('SELECT * FROM requests WHERE id = ?', id);
    return r ? this.request(r) : undefined;
  }
  deleteRequest(id: string): void {
    this.run('DELETE FROM requests WHERE id = ?', id);
  }
  listRequests(): RequestRow[] {
    return this.all('SELECT * FROM requests ORDER BY last_at DESC, rowid DESC').map((r) => this.request(r));
  }
  deleteState(key: string): void {
    this.run('DELETE FROM relay_state WHERE key = ?', key);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
