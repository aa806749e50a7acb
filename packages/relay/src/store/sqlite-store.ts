/**
 * SQLite implementation of RelayStore (better-sqlite3, WAL).
 *
 * Durability: `synchronous=FULL` by default, so a resolved write survives power loss; 'normal'
 * (WAL + synchronous=NORMAL) still survives a killed process but may lose the last commits on
 * an OS crash. Group commit keeps FULL cheap: mailbox writes (enqueue, ack) issued in the same
 * event-loop turn share one transaction and one fsync, in the order they were issued; if any of
 * them throws, the batch is rolled back and each write is re-run alone, so one failing write
 * does not refuse the others. Promises resolve only after COMMIT returns.
 *
 * A batch of acks only (no enqueue, no device-list change) commits with synchronous=NORMAL: the
 * commit is atomic and survives a killed process, and the next FULL commit's fsync of the
 * append-only WAL makes it durable too. Only a power loss before that can undo an ack, and then the
 * message is delivered again (at-least-once; clients drop duplicates by messageId). A sender's
 * `ok` still waits for a FULL commit: no acknowledged send is ever lost.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { WirePreKey, WireSignedPreKey } from '@pigeon/api';
import { RelayServerError } from '../errors.js';
import { LATEST_SCHEMA_VERSION, SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { SqliteLinkedDevices } from './sqlite-linked-devices.js';
import type { PutDeviceListResult, StoredDeviceList } from './linked-devices.js';
import type {
  EnqueueResult,
  MailboxLimits,
  MailboxProbe,
  NewMessage,
  PreKeyCounts,
  PreKeyUpload,
  RegisterDeviceResult,
  RelayStore,
  StoredDevice,
  StoredMessage,
  TakenBundle,
} from './types.js';

export const SQLITE_FILE_NAME = 'relay.sqlite';

export interface SqliteStoreOptions {
  /** Directory holding relay.sqlite (created if missing); omit for an in-memory store (tests). */
  readonly dataDir?: string;
  readonly durability?: 'full' | 'normal';
}

const KIND_X25519 = 0;
const KIND_KEM = 1;

interface DeviceRow {
  device_id: Buffer;
  account_id: Buffer;
  signing_key: Buffer;
  certificate: Buffer;
  registered_at: number;
}
interface PreKeyRow {
  key_id: number;
  public_key: Buffer;
  signature: Buffer | null;
}
interface MessageRow {
  seq: number;
  message_id: Buffer;
  envelope: Buffer;
  received_at: number;
}
interface UsageRow {
  messages: number;
  bytes: number;
}

interface PendingWrite {
  run(): unknown;
  /** False for an ack: its batch may skip the fsync when nothing else in it needs one. */
  readonly needsSync: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const toDevice = (r: DeviceRow): StoredDevice => ({
  deviceId: r.device_id,
  accountId: r.account_id,
  signingKey: r.signing_key,
  certificate: r.certificate,
  registeredAt: r.registered_at,
});

/** Applies pending migrations in one transaction each; refuses a database from a newer relay. */
export function migrateSqlite(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LATEST_SCHEMA_VERSION) {
    throw new RelayServerError('SCHEMA_TOO_NEW', `database schema ${current} is newer than this relay (${LATEST_SCHEMA_VERSION})`);
  }
  for (const migration of SQLITE_MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}

export function openSqliteStore(options: SqliteStoreOptions = {}): SqliteRelayStore {
  let file = ':memory:';
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    file = join(options.dataDir, SQLITE_FILE_NAME);
  }
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrateSqlite(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqliteRelayStore(db);
}

export class SqliteRelayStore implements RelayStore {
  /** One writer; flush() resolves each batch in issue order (see RelayStore.resolvesInCommitOrder). */
  readonly resolvesInCommitOrder = true;
  private closed = false;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private readonly s;
  private readonly takeBundlesTx;
  private readonly putPreKeysTx;
  private readonly setTokensTx;
  private readonly registerTx;
  private readonly batchTx;
  private readonly linked: SqliteLinkedDevices;
  /** synchronous=FULL (2) or EXTRA (3) when opened: ack-only batches then commit NORMAL (file comment). */
  private readonly syncLevel: number;
  /** Group commits since open: `synced` with the configured fsync, `relaxed` ack-only ones without it. */
  readonly commits = { synced: 0, relaxed: 0, failedBatches: 0 };

  constructor(readonly db: Database.Database) {
    this.syncLevel = db.pragma('synchronous', { simple: true }) as number;
    const p = (sql: string) => db.prepare(sql);
    this.linked = new SqliteLinkedDevices(db);
    this.s = {
      getDevice: p('SELECT * FROM devices WHERE device_id = ?'),
      devicesOfAccount: p('SELECT * FROM devices WHERE account_id = ? ORDER BY registered_at, device_id'),
      countDevices: p('SELECT count(*) AS n FROM devices WHERE account_id = ?').pluck(),
      accountExists: p('SELECT 1 FROM accounts WHERE account_id = ?').pluck(),
      insertAccount: p('INSERT OR IGNORE INTO accounts (account_id, created_at) VALUES (?, ?)'),
      insertDevice: p('INSERT INTO devices (device_id, account_id, signing_key, certificate, registered_at) VALUES (?, ?, ?, ?, ?)'),
      updateCertificate: p('UPDATE devices SET certificate = ? WHERE device_id = ?'),
      putSigned: p('INSERT OR REPLACE INTO signed_prekeys (device_id, kind, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?)'),
      getSigned: p('SELECT key_id, public_key, signature FROM signed_prekeys WHERE device_id = ? AND kind = ?'),
      putOneTime: p('INSERT OR REPLACE INTO one_time_prekeys (device_id, kind, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?)'),
      countOneTime: p('SELECT count(*) FROM one_time_prekeys WHERE device_id = ? AND kind = ?').pluck(),
      // Select and delete in one statement: the key goes to exactly one fetcher.
      takeOneTime: p(`DELETE FROM one_time_prekeys WHERE device_id = @device AND kind = @kind AND key_id =
          (SELECT key_id FROM one_time_prekeys WHERE device_id = @device AND kind = @kind ORDER BY key_id LIMIT 1)
        RETURNING key_id, public_key, signature`),
      hasToken: p('SELECT 1 FROM delivery_tokens WHERE account_id = ? AND token_hash = ?').pluck(),
      addToken: p('INSERT OR IGNORE INTO delivery_tokens (account_id, token_hash) VALUES (?, ?)'),
      removeToken: p('DELETE FROM delivery_tokens WHERE account_id = ? AND token_hash = ?'),
      countTokens: p('SELECT count(*) FROM delivery_tokens WHERE account_id = ?').pluck(),
      usage: p('SELECT messages, bytes FROM mailbox_usage WHERE device_id = ?'),
      messageExists: p('SELECT 1 FROM messages WHERE recipient = ? AND message_id = ?').pluck(),
      insertMessage: p(
        'INSERT OR IGNORE INTO messages (recipient, message_id, envelope, received_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ),
      pending: p(
        'SELECT seq, message_id, envelope, received_at FROM messages WHERE recipient = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?',
      ),
      ack: p('DELETE FROM messages WHERE recipient = ? AND message_id = ?'),
      hasMailAfter: p('SELECT 1 FROM messages WHERE recipient = ? AND seq > ? AND expires_at > ? LIMIT 1').pluck(),
      sweep: p('DELETE FROM messages WHERE expires_at <= ?'),
    };

    this.batchTx = db.transaction((writes: readonly PendingWrite[]) => writes.map((w) => w.run()));

    this.registerTx = db.transaction((d: StoredDevice, maxDevices: number): RegisterDeviceResult => {
      const existing = this.s.getDevice.get(d.deviceId) as DeviceRow | undefined;
      if (existing !== undefined) {
        if (!existing.account_id.equals(d.accountId)) return 'account_mismatch';
        this.s.updateCertificate.run(d.certificate, d.deviceId);
        return 'updated';
      }
      if ((this.s.countDevices.get(d.accountId) as number) >= maxDevices) return 'account_full';
      this.s.insertAccount.run(d.accountId, d.registeredAt);
      this.s.insertDevice.run(d.deviceId, d.accountId, d.signingKey, d.certificate, d.registeredAt);
      return 'created';
    });

    this.putPreKeysTx = db.transaction((deviceId: Uint8Array, u: PreKeyUpload, max: number): 'ok' | 'limit' => {
      if (u.signedPreKey) this.s.putSigned.run(deviceId, KIND_X25519, u.signedPreKey.id, u.signedPreKey.publicKey, u.signedPreKey.signature);
      if (u.kemLastResortPreKey) {
        const k = u.kemLastResortPreKey;
        this.s.putSigned.run(deviceId, KIND_KEM, k.id, k.publicKey, k.signature);
      }
      for (const k of u.oneTimePreKeys) this.s.putOneTime.run(deviceId, KIND_X25519, k.id, k.publicKey, null);
      for (const k of u.kemOneTimePreKeys) this.s.putOneTime.run(deviceId, KIND_KEM, k.id, k.publicKey, k.signature);
      if ((this.s.countOneTime.get(deviceId, KIND_X25519) as number) > max || (this.s.countOneTime.get(deviceId, KIND_KEM) as number) > max) {
        throw new LimitRollback();
      }
      return 'ok';
    });

    this.takeBundlesTx = db.transaction((accountId: Uint8Array): TakenBundle[] | undefined => {
      if (this.s.accountExists.get(accountId) === undefined) return undefined;
      const bundles: TakenBundle[] = [];
      for (const row of this.s.devicesOfAccount.all(accountId) as DeviceRow[]) {
        const signed = this.s.getSigned.get(row.device_id, KIND_X25519) as PreKeyRow | undefined;
        const lastResort = this.s.getSigned.get(row.device_id, KIND_KEM) as PreKeyRow | undefined;
        if (signed === undefined || lastResort === undefined) continue;
        const oneTime = this.s.takeOneTime.get({ device: row.device_id, kind: KIND_X25519 }) as PreKeyRow | undefined;
        const kemOneTime = this.s.takeOneTime.get({ device: row.device_id, kind: KIND_KEM }) as PreKeyRow | undefined;
        const kem = kemOneTime ?? lastResort;
        bundles.push({
          device: toDevice(row),
          signedPreKey: toSigned(signed),
          oneTimePreKey: oneTime === undefined ? null : toPreKey(oneTime),
          kemPreKey: toSigned(kem),
          kemLastResort: kemOneTime === undefined,
        });
      }
      return bundles;
    });

    this.setTokensTx = db.transaction(
      (accountId: Uint8Array, add: readonly Uint8Array[], remove: readonly Uint8Array[], max: number): 'ok' | 'limit' => {
        for (const h of remove) this.s.removeToken.run(accountId, h);
        for (const h of add) this.s.addToken.run(accountId, h);
        if ((this.s.countTokens.get(accountId) as number) > max) throw new LimitRollback();
        return 'ok';
      },
    );
  }

  private check(): void {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'store is closed');
  }

  /** Runs a synchronous read or single transaction, reporting failures as a rejected promise. */
  private now<T>(run: () => T): Promise<T> {
    try {
      this.check();
      return Promise.resolve(run());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Queues a write for the next group commit (see the file comment). */
  private batched<T>(run: () => T, needsSync = true): Promise<T> {
    if (this.closed) return Promise.reject(new RelayServerError('STORE_CLOSED', 'store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, needsSync, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const writes = this.queue;
    this.queue = [];
    if (writes.length === 0) return;
    // PRAGMA synchronous takes effect when the statement is compiled, so it is exec'd, not prepared.
    // Restoring it is not guarded: if that ever failed, crashing beats committing sends unsynced.
    const relax = this.syncLevel >= 2 && !writes.some((w) => w.needsSync) && this.trySyncNormal();
    let results: unknown[] | undefined;
    try {
      results = this.batchTx(writes);
    } catch {
      // Rare path: a write (or the commit) failed and the whole batch rolled back. Run each
      // write in its own transaction so only the failing one is refused.
      this.commits.failedBatches++;
      for (const w of writes) {
        try {
          w.resolve(this.db.transaction(w.run)());
        } catch (error) {
          w.reject(error);
        }
      }
    } finally {
      if (relax) this.db.exec(`PRAGMA synchronous = ${this.syncLevel}`);
    }
    if (relax) this.commits.relaxed++;
    else this.commits.synced++;
    if (results === undefined) return;
    writes.forEach((w, i) => w.resolve(results[i]));
  }

  /** Switches to synchronous=NORMAL for an ack-only batch; false (the batch stays synced) if that fails. */
  private trySyncNormal(): boolean {
    try {
      this.db.exec('PRAGMA synchronous = NORMAL');
      return true;
    } catch {
      return false;
    }
  }

  registerDevice(device: StoredDevice, maxDevicesPerAccount: number): Promise<RegisterDeviceResult> {
    return this.now(() => this.registerTx(device, maxDevicesPerAccount));
  }

  getDevice(deviceId: Uint8Array): Promise<StoredDevice | undefined> {
    return this.now(() => {
      const row = this.s.getDevice.get(deviceId) as DeviceRow | undefined;
      return row === undefined ? undefined : toDevice(row);
    });
  }

  accountExists(accountId: Uint8Array): Promise<boolean> {
    return this.now(() => this.s.accountExists.get(accountId) !== undefined);
  }

  putPreKeys(deviceId: Uint8Array, upload: PreKeyUpload, maxOneTimePerKind: number): Promise<'ok' | 'limit'> {
    return this.now(() => limitAware(() => this.putPreKeysTx(deviceId, upload, maxOneTimePerKind)));
  }

  preKeyCounts(deviceId: Uint8Array): Promise<PreKeyCounts> {
    return this.now(() => ({
      oneTimePreKeys: this.s.countOneTime.get(deviceId, KIND_X25519) as number,
      kemOneTimePreKeys: this.s.countOneTime.get(deviceId, KIND_KEM) as number,
    }));
  }

  takePreKeyBundles(accountId: Uint8Array): Promise<TakenBundle[] | undefined> {
    return this.now(() => this.takeBundlesTx(accountId));
  }

  setDeliveryTokens(
    accountId: Uint8Array,
    addHashes: readonly Uint8Array[],
    removeHashes: readonly Uint8Array[],
    maxPerAccount: number,
  ): Promise<'ok' | 'limit'> {
    return this.now(() => limitAware(() => this.setTokensTx(accountId, addHashes, removeHashes, maxPerAccount)));
  }

  hasDeliveryToken(accountId: Uint8Array, tokenHash: Uint8Array): Promise<boolean> {
    return this.now(() => this.s.hasToken.get(accountId, tokenHash) !== undefined);
  }

  enqueue(m: NewMessage, limits: MailboxLimits): Promise<EnqueueResult> {
    return this.batched((): EnqueueResult => {
      const usage = this.s.usage.get(m.recipientDeviceId) as UsageRow | undefined;
      if (usage !== undefined && (usage.messages + 1 > limits.maxMessages || usage.bytes + m.envelope.length > limits.maxBytes)) {
        return this.s.messageExists.get(m.recipientDeviceId, m.messageId) === undefined ? 'full' : 'duplicate';
      }
      if (usage === undefined && (limits.maxMessages < 1 || m.envelope.length > limits.maxBytes)) return 'full';
      const info = this.s.insertMessage.run(m.recipientDeviceId, m.messageId, m.envelope, m.receivedAt, m.expiresAt);
      return info.changes === 1 ? 'stored' : 'duplicate';
    });
  }

  mailboxesWithMail(probes: readonly MailboxProbe[], now: number): Promise<boolean[]> {
    return this.now(() => probes.map((p) => this.s.hasMailAfter.get(p.deviceId, p.afterSeq, now) !== undefined));
  }

  pending(deviceId: Uint8Array, afterSeq: number, now: number, limit: number): Promise<StoredMessage[]> {
    return this.now(() =>
      (this.s.pending.all(deviceId, afterSeq, now, limit) as MessageRow[]).map((r) => ({
        seq: r.seq,
        messageId: r.message_id,
        envelope: r.envelope,
        receivedAt: r.received_at,
      })),
    );
  }

  ack(deviceId: Uint8Array, messageIds: readonly Uint8Array[]): Promise<number> {
    return this.batched(() => {
      let n = 0;
      for (const id of messageIds) n += this.s.ack.run(deviceId, id).changes;
      return n;
    }, false);
  }

  sweepExpired(now: number): Promise<number> {
    return this.now(() => this.s.sweep.run(now).changes);
  }

  mailboxUsage(deviceId: Uint8Array): Promise<{ messages: number; bytes: number }> {
    return this.now(() => {
      const row = this.s.usage.get(deviceId) as UsageRow | undefined;
      return { messages: row?.messages ?? 0, bytes: row?.bytes ?? 0 };
    });
  }

  // linked devices (sqlite-linked-devices.ts). putDeviceList deletes mailboxes, so it goes
  // through the group commit queue to stay ordered with enqueues and acks.

  getDeviceList(accountId: Uint8Array): Promise<StoredDeviceList | undefined> {
    return this.now(() => this.linked.getDeviceList(accountId));
  }

  putDeviceList(accountId: Uint8Array, list: StoredDeviceList, listedDeviceIds: readonly Uint8Array[]): Promise<PutDeviceListResult> {
    return this.batched(() => this.linked.putDeviceList(accountId, list, listedDeviceIds));
  }

  openProvisioning(provisioningId: Uint8Array, now: number, expiresAt: number): Promise<'opened' | 'exists'> {
    return this.now(() => this.linked.openProvisioning(provisioningId, now, expiresAt));
  }

  putProvisioningMessage(provisioningId: Uint8Array, envelope: Uint8Array, now: number): Promise<'stored' | 'unknown' | 'full'> {
    return this.now(() => this.linked.putProvisioningMessage(provisioningId, envelope, now));
  }

  takeProvisioningMessage(provisioningId: Uint8Array, now: number): Promise<Uint8Array | undefined> {
    return this.now(() => this.linked.takeProvisioningMessage(provisioningId, now));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

/** Thrown inside a transaction to roll it back when a count limit would be exceeded. */
class LimitRollback extends Error {}

function limitAware(run: () => 'ok' | 'limit'): 'ok' | 'limit' {
  try {
    return run();
  } catch (e) {
    if (e instanceof LimitRollback) return 'limit';
    throw e;
  }
}

function toSigned(r: PreKeyRow): WireSignedPreKey {
  return { id: r.key_id, publicKey: r.public_key, signature: r.signature ?? new Uint8Array(0) };
}
function toPreKey(r: PreKeyRow): WirePreKey {
  return { id: r.key_id, publicKey: r.public_key };
}
