/**
 * IndexedDB ClientStore: the SDK's store interface is synchronous (store/types.ts in
 * @pigeon/client), IndexedDB is not. So the store keeps a complete in-memory mirror:
 *   - open: every row is read (and private-key blobs unsealed) into the mirror;
 *   - transaction(fn): writes go to the mirror at once, with an undo log for rollback;
 *   - commit: the transaction's writes are queued and persisted to IndexedDB in ONE IndexedDB
 *     transaction, strictly in commit order.
 * `whenPersisted()` resolves once everything committed so far is on disk; the browser socket
 * (socket.dom.ts) waits for it before putting any frame on the wire, so an ack (or a send of an
 * outbox row) never reaches the relay before the state it depends on is durable.
 */
import type { ClientStore, ContactDeviceRow, ContactRow, IdentityRow, MessageRow, OutboxRow, PreKeyKind, SafetyEventRow } from '@pigeon/client';
import type { BlockRow, MessageMetaRow, ReactionRow, RequestRow } from '@pigeon/client';
import type { DeliveryState } from '@pigeon/client';
import { openDatabase, requestResult, ROWS, transactionDone } from './idb.js';
import { isSealedBlob, openKeyVault } from './key-vault.js';
import type { KeyVault } from './key-vault.js';

// 'safety' (key-change events) arrived with the SDK's schema 3; rows live in the same object store,
// so an older database simply has none (no IndexedDB version bump needed).
// Message life (the SDK's schema 5: msgmeta, reaction, block, request) likewise needs no version bump.
// Groups (idb-group-store.ts: group, gkey = received sender keys, gmsg = messages, gheld = held payloads) too,
// and the SDK's schema 6 (grcpt = members' receipts of our group messages, gsent = which sender key carried each copy).
export const TABLES = ['identity', 'prekey', 'session', 'contact', 'device', 'invite', 'message', 'outbox', 'seen', 'state', 'safety', 'msgmeta', 'reaction', 'block', 'request', 'group', 'gkey', 'gmsg', 'gheld', 'grcpt', 'gsent'] as const;
export type Table = (typeof TABLES)[number];

/** Fields holding private key material, sealed at rest ('self': the whole value is a blob). */
export const SECRET_FIELDS: Partial<Record<Table, readonly string[] | 'self'>> = {
  identity: ['accountKeys', 'deviceKeys'],
  prekey: 'self',
  session: ['record'],
  // Sender Keys (ours and received) and held payloads (they may carry a sender key distribution).
  // A null field (no own key yet) stays null.
  group: ['ownKey'],
  gkey: 'self',
  gheld: ['payload'],
};

/** One row: its value and a sequence number (insertion order, the tie-break SQLite's rowid gives). */
export interface Entry {
  readonly v: unknown;
  readonly s: number;
}
export interface Op {
  readonly table: Table;
  readonly key: string;
  readonly entry: Entry | null;
}
export type Snapshot = Map<Table, Map<string, Entry>>;

export interface PersistSink {
  write(ops: readonly Op[]): Promise<void>;
  close(): void;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: 'DUPLICATE' | 'CLOSED' | 'PERSIST_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface SessionValue {
  readonly contactId: string;
  readonly record: Uint8Array;
}

export function emptySnapshot(): Snapshot {
  return new Map(TABLES.map((t) => [t, new Map<string, Entry>()]));
}

const byOrder = (a: { row: MessageRow | OutboxRow; sortKey: number; s: number }, b: { sortKey: number; s: number }) =>
  a.sortKey - b.sortKey || a.s - b.s;

/** The mirror seen by stores that share this one's transactions (idb-group-store.ts). */
export interface SharedTables {
  get<T>(table: Table, key: string): T | undefined;
  has(table: Table, key: string): boolean;
  /** A write (null = delete) inside the current transaction, or a transaction of its own. */
  write(table: Table, key: string, value: unknown | null): void;
  entries(table: Table): IterableIterator<[string, Entry]>;
}

export class IdbClientStore implements ClientStore {
  readonly #tables: Snapshot;
  #seq: number;
  #depth = 0;
  #undo: { table: Table; key: string; prev: Entry | undefined }[] = [];
  #pending = new Map<string, Op>();
  #tail: Promise<void> = Promise.resolve();
  #sink: Promise<PersistSink>;
  #closed = false;
  #failure: unknown = null;
  onPersistError: ((err: unknown) => void) | null = null;

  constructor(snapshot: Snapshot, sink: PersistSink | Promise<PersistSink>) {
    this.#tables = snapshot;
    let max = 0;
    for (const t of snapshot.values()) for (const e of t.values()) max = Math.max(max, e.s);
    this.#seq = max + 1;
    this.#sink = Promise.resolve(sink);
    // Keep a failed sink from being an unhandled rejection; writes report it.
    this.#sink.catch(() => undefined);
  }

  /** Resolves when every transaction committed so far is in IndexedDB (never rejects; see `failed`). */
  whenPersisted(): Promise<void> {
    return this.#tail;
  }

  /** A persistence failure makes the mirror ahead of the disk: the app must stop acknowledging. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  // ---- mirror primitives ----------------------------------------------------------------------

  #table(t: Table): Map<string, Entry> {
    return this.#tables.get(t)!;
  }

  #get<T>(t: Table, key: string): T | undefined {
    return this.#table(t).get(key)?.v as T | undefined;
  }

  #write(t: Table, key: string, value: unknown | null): void {
    if (this.#closed) throw new StoreError('CLOSED', 'the store is closed');
    this.transaction(() => {
      const table = this.#table(t);
      const prev = table.get(key);
      this.#undo.push({ table: t, key, prev });
      let entry: Entry | null = null;
      if (value === null) table.delete(key);
      else {
        entry = { v: value, s: prev?.s ?? this.#seq++ };
        table.set(key, entry);
      }
      this.#pending.set(`${t}\u0000${key}`, { table: t, key, entry });
    });
  }

  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.#depth = 1;
    try {
      const result = fn();
      const ops = [...this.#pending.values()];
      this.#pending.clear();
      this.#undo = [];
      if (ops.length > 0) this.#persist(ops);
      return result;
    } catch (err) {
      for (let i = this.#undo.length - 1; i >= 0; i--) {
        const u = this.#undo[i]!;
        if (u.prev === undefined) this.#table(u.table).delete(u.key);
        else this.#table(u.table).set(u.key, u.prev);
      }
      this.#undo = [];
      this.#pending.clear();
      throw err;
    } finally {
      this.#depth = 0;
    }
  }

  #persist(ops: readonly Op[]): void {
    this.#tail = this.#tail.then(async () => {
      if (this.#failure !== null) return;
      try {
        await (await this.#sink).write(ops);
      } catch (err) {
        this.#failure = err;
        this.onPersistError?.(new StoreError('PERSIST_FAILED', 'could not write to IndexedDB', { cause: err }));
      }
    });
  }

  /** Row access for a store that commits in this one's transactions (the group store). */
  sharedTables(): SharedTables {
    return {
      get: <T>(t: Table, key: string) => this.#get<T>(t, key),
      has: (t, key) => this.#table(t).has(key),
      write: (t, key, value) => this.#write(t, key, value),
      entries: (t) => this.#table(t).entries(),
    };
  }

  // ---- ClientStore ------------------------------------------------------------------------------

  getIdentity(): IdentityRow | undefined {
    return this.#get<IdentityRow>('identity', 'me');
  }
  putIdentity(row: IdentityRow): void {
    this.#write('identity', 'me', { ...row });
  }

  putPreKey(kind: PreKeyKind, id: number, data: Uint8Array): void {
    this.#write('prekey', `${kind}:${id}`, data);
  }
  getPreKey(kind: PreKeyKind, id: number): Uint8Array | undefined {
    return this.#get<Uint8Array>('prekey', `${kind}:${id}`);
  }
  deletePreKey(kind: PreKeyKind, id: number): void {
    if (this.#table('prekey').has(`${kind}:${id}`)) this.#write('prekey', `${kind}:${id}`, null);
  }

  getSession(deviceId: string): Uint8Array | undefined {
    return this.#get<SessionValue>('session', deviceId)?.record;
  }
  putSession(deviceId: string, contactId: string, record: Uint8Array): void {
    this.#write('session', deviceId, { contactId, record } satisfies SessionValue);
  }

  listContacts(): ContactRow[] {
    return [...this.#table('contact').values()]
      .map((e) => e.v as ContactRow)
      .sort((a, b) => a.addedAt - b.addedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  getContact(id: string): ContactRow | undefined {
    return this.#get<ContactRow>('contact', id);
  }
  putContact(row: ContactRow): void {
    this.#write('contact', row.id, { ...row });
  }
  listContactDevices(contactId: string): ContactDeviceRow[] {
    return [...this.#table('device').values()]
      .map((e) => e.v as ContactDeviceRow)
      .filter((d) => d.contactId === contactId)
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }
  putContactDevice(row: ContactDeviceRow): void {
    this.#write('device', `${row.contactId}/${row.deviceId}`, { ...row });
  }

  putInvite(secret: string, createdAt: number): void {
    this.#write('invite', secret, createdAt);
  }
  getInvite(secret: string): number | undefined {
    return this.#get<number>('invite', secret);
  }
  deleteInvite(secret: string): void {
    if (this.#table('invite').has(secret)) this.#write('invite', secret, null);
  }

  getMessage(id: string): MessageRow | undefined {
    return this.#get<MessageRow>('message', id);
  }
  insertMessage(row: MessageRow): void {
    if (this.#table('message').has(row.id)) throw new StoreError('DUPLICATE', 'a message with this id exists');
    this.#write('message', row.id, { ...row });
  }
  #sortedMessages(filter: (m: MessageRow) => boolean): MessageRow[] {
    const out: { row: MessageRow; sortKey: number; s: number }[] = [];
    for (const e of this.#table('message').values()) {
      const row = e.v as MessageRow;
      if (filter(row)) out.push({ row, sortKey: row.sentAt, s: e.s });
    }
    return out.sort(byOrder).map((x) => x.row);
  }
  listMessages(contactId: string, limit?: number): MessageRow[] {
    const all = this.#sortedMessages((m) => m.contactId === contactId);
    return limit === undefined ? all : all.slice(Math.max(0, all.length - limit));
  }
  listUnread(): MessageRow[] {
    return this.#sortedMessages((m) => m.direction === 'in' && !m.read);
  }
  setMessageState(id: string, state: DeliveryState): void {
    const m = this.getMessage(id);
    if (m) this.#write('message', id, { ...m, state });
  }
  markRead(ids: readonly string[]): void {
    this.transaction(() => {
      for (const id of ids) {
        const m = this.getMessage(id);
        if (m && !m.read) this.#write('message', id, { ...m, read: true });
      }
    });
  }

  putOutbox(row: OutboxRow): void {
    this.#write('outbox', row.relayMessageId, { ...row });
  }
  listOutbox(): OutboxRow[] {
    const out: { row: OutboxRow; sortKey: number; s: number }[] = [];
    for (const e of this.#table('outbox').values()) {
      const row = e.v as OutboxRow;
      out.push({ row, sortKey: row.createdAt, s: e.s });
    }
    return out.sort(byOrder).map((x) => x.row);
  }
  deleteOutbox(relayMessageId: string): void {
    if (this.#table('outbox').has(relayMessageId)) this.#write('outbox', relayMessageId, null);
  }
  countOutbox(messageId?: string): number {
    if (messageId === undefined) return this.#table('outbox').size;
    let n = 0;
    for (const e of this.#table('outbox').values()) if ((e.v as OutboxRow).messageId === messageId) n++;
    return n;
  }

  markSeen(id: string, at: number): boolean {
    if (this.#table('seen').has(id)) return false;
    this.#write('seen', id, at);
    return true;
  }
  hasSeen(id: string): boolean {
    return this.#table('seen').has(id);
  }

  addSafetyEvent(row: SafetyEventRow): void {
    this.#write('safety', row.id, { ...row });
  }
  listSafetyEvents(contactId: string): SafetyEventRow[] {
    const out: { row: SafetyEventRow; sortKey: number; s: number }[] = [];
    for (const e of this.#table('safety').values()) {
      const row = e.v as SafetyEventRow;
      if (row.contactId === contactId) out.push({ row, sortKey: row.at, s: e.s });
    }
    return out.sort((a, b) => a.sortKey - b.sortKey || a.s - b.s).map((x) => x.row);
  }
  acknowledgeSafetyEvents(contactId: string): void {
    this.transaction(() => {
      for (const row of this.listSafetyEvents(contactId)) if (!row.acknowledged) this.#write('safety', row.id, { ...row, acknowledged: true });
    });
  }

  getState(key: string): string | undefined {
    return this.#get<string>('state', key);
  }
  setState(key: string, value: string): void {
    this.#write('state', key, value);
  }

  // ---- message life (store/message-life-types.ts in @pigeon/client) ------------------------------

  getMessageMeta(id: string): MessageMetaRow | undefined {
    return this.#get<MessageMetaRow>('msgmeta', id);
  }
  putMessageMeta(row: MessageMetaRow): void {
    this.#write('msgmeta', row.id, { ...row });
  }
  #expiring(): { row: MessageMetaRow; s: number }[] {
    const out: { row: MessageMetaRow; s: number }[] = [];
    for (const e of this.#table('msgmeta').values()) {
      const row = e.v as MessageMetaRow;
      if (row.expiresAt !== null) out.push({ row, s: e.s });
    }
    return out.sort((a, b) => a.row.expiresAt! - b.row.expiresAt! || a.s - b.s);
  }
  listExpired(now: number, limit: number): MessageMetaRow[] {
    return this.#expiring()
      .filter((x) => x.row.expiresAt! <= now)
      .slice(0, limit)
      .map((x) => x.row);
  }
  nextExpiry(): number | undefined {
    return this.#expiring()[0]?.row.expiresAt ?? undefined;
  }
  setMessageText(id: string, text: string): void {
    const m = this.getMessage(id);
    if (m) this.#write('message', id, { ...m, text });
  }
  deleteMessage(id: string): void {
    this.transaction(() => {
      if (this.#table('message').has(id)) this.#write('message', id, null);
      if (this.#table('msgmeta').has(id)) this.#write('msgmeta', id, null);
      for (const r of this.listReactions(id)) this.#write('reaction', `${id}/${r.senderId}`, null);
    });
  }
  putReaction(row: ReactionRow): void {
    this.#write('reaction', `${row.messageId}/${row.senderId}`, { ...row });
  }
  deleteReaction(messageId: string, senderId: string): void {
    const key = `${messageId}/${senderId}`;
    if (this.#table('reaction').has(key)) this.#write('reaction', key, null);
  }
  listReactions(messageId: string): ReactionRow[] {
    const out: { row: ReactionRow; s: number }[] = [];
    for (const e of this.#table('reaction').values()) {
      const row = e.v as ReactionRow;
      if (row.messageId === messageId) out.push({ row, s: e.s });
    }
    return out.sort((a, b) => a.row.at - b.row.at || a.s - b.s).map((x) => x.row);
  }
  putBlock(row: BlockRow): void {
    this.#write('block', row.contactId, { ...row });
  }
  getBlock(contactId: string): BlockRow | undefined {
    return this.#get<BlockRow>('block', contactId);
  }
  deleteBlock(contactId: string): void {
    if (this.#table('block').has(contactId)) this.#write('block', contactId, null);
  }
  listBlocks(): BlockRow[] {
    return [...this.#table('block').values()].sort((a, b) => (a.v as BlockRow).at - (b.v as BlockRow).at || a.s - b.s).map((e) => e.v as BlockRow);
  }
  putRequest(row: RequestRow): void {
    this.#write('request', row.id, { ...row });
  }
  getRequest(id: string): RequestRow | undefined {
    return this.#get<RequestRow>('request', id);
  }
  deleteRequest(id: string): void {
    if (this.#table('request').has(id)) this.#write('request', id, null);
  }
  listRequests(): RequestRow[] {
    return [...this.#table('request').values()].sort((a, b) => (b.v as RequestRow).lastAt - (a.v as RequestRow).lastAt || b.s - a.s).map((e) => e.v as RequestRow);
  }
  deleteState(key: string): void {
    if (this.#table('state').has(key)) this.#write('state', key, null);
  }

  /** Stops accepting writes; what was committed is still written, then the database closes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#tail.then(async () => {
      try {
        (await this.#sink).close();
      } catch {
        // the sink never opened: nothing to close
      }
    });
  }
}

// ---- the IndexedDB side ---------------------------------------------------------------------

const enc = new TextEncoder();
const aadOf = (table: Table, key: string, field: string) => enc.encode(`pigeon/${table}/${key}/${field}`);

async function sealValue(vault: KeyVault, table: Table, key: string, value: unknown): Promise<unknown> {
  const spec = SECRET_FIELDS[table];
  if (!spec) return value;
  if (spec === 'self') return vault.seal(value as Uint8Array, aadOf(table, key, ''));
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const f of spec) if (out[f] !== null) out[f] = await vault.seal(out[f] as Uint8Array, aadOf(table, key, f));
  return out;
}

async function openValue(vault: KeyVault, table: Table, key: string, value: unknown): Promise<unknown> {
  const spec = SECRET_FIELDS[table];
  if (!spec) return value;
  if (spec === 'self') {
    if (!isSealedBlob(value)) throw new Error(`unsealed secret in ${table}`);
    return vault.open(value, aadOf(table, key, ''));
  }
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const f of spec) {
    const blob = out[f];
    if (blob === null) continue; // an optional secret that is absent (a group without its own key yet)
    if (!isSealedBlob(blob)) throw new Error(`unsealed secret in ${table}.${f}`);
    out[f] = await vault.open(blob, aadOf(table, key, f));
  }
  return out;
}

function idbSink(db: IDBDatabase, vault: KeyVault): PersistSink {
  return {
    async write(ops) {
      // Seal first (async), then one IndexedDB transaction for the whole commit.
      const sealed = await Promise.all(
        ops.map(async (op) => ({ op, v: op.entry ? await sealValue(vault, op.table, op.key, op.entry.v) : null })),
      );
      const tx = db.transaction(ROWS, 'readwrite', { durability: 'strict' });
      const rows = tx.objectStore(ROWS);
      for (const { op, v } of sealed) {
        if (op.entry) rows.put({ v, s: op.entry.s }, [op.table, op.key]);
        else rows.delete([op.table, op.key]);
      }
      await transactionDone(tx);
    },
    close() {
      db.close();
    },
  };
}

export interface OpenIdbStoreOptions {
  /** Database name (one profile per name). */
  readonly name: string;
  readonly indexedDB?: IDBFactory;
  readonly subtle?: SubtleCrypto;
  readonly randomBytes?: (n: number) => Uint8Array;
}

function deps(options: OpenIdbStoreOptions) {
  return {
    factory: options.indexedDB ?? globalThis.indexedDB,
    subtle: options.subtle ?? globalThis.crypto.subtle,
    random: options.randomBytes ?? ((n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n))),
  };
}

/** Opens (or creates) the profile database and loads it into a new store. */
export async function openIdbStore(options: OpenIdbStoreOptions): Promise<IdbClientStore> {
  const { factory, subtle, random } = deps(options);
  const db = await openDatabase(factory, options.name);
  try {
    const vault = await openKeyVault(db, subtle, random);
    const tx = db.transaction(ROWS, 'readonly');
    const [keys, values] = await Promise.all([
      requestResult(tx.objectStore(ROWS).getAllKeys()),
      requestResult(tx.objectStore(ROWS).getAll() as IDBRequest<Entry[]>),
    ]);
    const snapshot = emptySnapshot();
    for (let i = 0; i < keys.length; i++) {
      const [table, key] = keys[i] as [Table, string];
      const stored = values[i]!;
      const map = snapshot.get(table);
      if (!map) continue; // a table from a newer version: ignored, never deleted
      map.set(key, { v: await openValue(vault, table, key, stored.v), s: stored.s });
    }
    return new IdbClientStore(snapshot, idbSink(db, vault));
  } catch (err) {
    db.close();
    throw err;
  }
}

/** A new empty store whose database opens in the background (the conformance suite's factory is synchronous). */
export function createIdbStoreLazily(options: OpenIdbStoreOptions): IdbClientStore {
  const { factory, subtle, random } = deps(options);
  const sink = openDatabase(factory, options.name).then(async (db) => idbSink(db, await openKeyVault(db, subtle, random)));
  return new IdbClientStore(emptySnapshot(), sink);
}

/** Deletes a profile database (used by "reset" and tests). */
export function deleteIdbStore(name: string, factory: IDBFactory = globalThis.indexedDB): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = factory.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error('cannot delete the database'));
    req.onblocked = () => resolve();
  });
}
