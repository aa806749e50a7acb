/**
 * PostgreSQL implementation of RelayStore (scale-out: many relay nodes share it), optionally
 * spread over several databases by rendezvous hashing (postgres-sharding.ts). Notes for operators
 * in STORE-POSTGRES.md.
 *
 * Contract (types.ts) and how it is kept here:
 * - durable before resolve: each write is one autocommitted statement or an explicit transaction,
 *   and the promise resolves after COMMIT returns (synchronous_commit as the server has it);
 * - idempotent enqueue: UNIQUE (recipient, message_id) with ON CONFLICT DO NOTHING;
 * - per-mailbox order: pigeon_enqueue takes the mailbox's usage row lock before the seq, so seq
 *   order is commit order within a mailbox and paging by seq never skips a late commit;
 * - one-time prekeys: DELETE of the lowest id chosen with FOR UPDATE SKIP LOCKED, so concurrent
 *   fetches take different keys instead of waiting and then finding theirs gone;
 * - limits are checked inside the transaction that would exceed them, under a lock that
 *   serialises writers of the same account or device;
 * - refusals are results; any driver or server error rejects the promise (relay: INTERNAL).
 *
 * Group commit (postgres-group-commit.ts): per shard one batch of mailbox writes (enqueues and
 * acks together) is at the server at a time, one statement and one transaction; what arrives
 * meanwhile is the next batch. Writes to one mailbox keep their issue order. Mailbox reads
 * (`pending`) are batched the same way, one statement for the reads of many connections.
 *
 * Sharding: account data lives on the account's shard, mailboxes and the device directory on the
 * device's shard. Calls that name only a device (getDevice, putPreKeys) find its account through
 * the directory; the mapping never changes once the device row exists, so it is cached.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { CustomTypesConfig, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import type { WirePreKey, WireSignedPreKey } from '@pigeon/api';
import { RelayServerError } from '../errors.js';
import { bytea as b } from './bytea.js';
import { DEFAULT_MAX_BATCH, GroupCommitter, type BatchLimits } from './postgres-group-commit.js';
import { LATEST_POSTGRES_SCHEMA_VERSION, POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { canonicalShardSet, parseShardList, ShardRouter, type PostgresShardSpec, type ResolvedShard } from './postgres-sharding.js';
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
  StoreBatchStats,
  StoredMessage,
  TakenBundle,
} from './types.js';

export interface PostgresStoreOptions {
  /**
   * One connection string per shard: `postgres://host/db`, a comma-separated list
   * `postgres://a/db1,postgres://b/db2`, or an array of URLs or `{ url, name }`.
   */
  readonly url: string | readonly (string | PostgresShardSpec)[];
  /** Connections per shard and per relay node. */
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
  /** Server-side limit for one statement; 0 turns it off. */
  readonly statementTimeoutMs?: number;
  /** How long an unused pooled connection stays open. */
  readonly idleTimeoutMs?: number;
  readonly applicationName?: string;
  /**
   * Batch the mailbox writes (and reads) to a shard: one batch at the server at a time, the next
   * made of what arrived meanwhile (fewer commits and round trips under load, one more loop turn
   * of latency when idle). false: every write in its own transaction, still in issue order.
   * Default true.
   */
  readonly groupCommit?: boolean;
  /** Errors of idle pooled connections (e.g. the server restarted); they are dropped and replaced. */
  readonly onBackgroundError?: (error: unknown) => void;
}

export const DEFAULT_POSTGRES_POOL_SIZE = 10;
export const DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_POSTGRES_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_POSTGRES_IDLE_TIMEOUT_MS = 30_000;
/** A transaction left open this long (a stuck node) is ended by the server, releasing its locks. */
export const POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/** A directory row whose device never appeared is released to another account after this long. */
export const ORPHAN_DIRECTORY_GRACE_MS = 60_000;
/** Device -> account entries kept in memory per store (about 100 bytes each). */
export const DEVICE_ACCOUNT_CACHE_SIZE = 100_000;
/** Envelope bytes per write batch at most (a batch is one statement and one transaction). */
export const WRITE_BATCH_MAX_BYTES = 16 << 20;
/**
 * Messages one read batch may ask for (32 reads of a whole 64-message window), so a mass
 * reconnect to full mailboxes cannot pull one huge result; most reads ask for a window and get a
 * message or two, so this bounds memory, not the batches of ordinary traffic. (640, what ten
 * unbatched reads could return before, was measured to cap throughput: ten reads per batch.)
 */
export const READ_BATCH_MAX_ROWS = 2048;
/** Mailboxes whose expired mail one sweep transaction deletes. */
export const SWEEP_BATCH_MAILBOXES = 500;
/** pg_advisory_lock key serialising migrations across relay nodes ("PIGEON" ‖ 0x0001). */
export const MIGRATION_LOCK_KEY = '0x504947454f4e0001';
/** First key of the two-key advisory locks that serialise delivery-token writes per account. */
const TOKEN_LOCK_CLASS = 0x50474e01;

const KIND_X25519 = 0;
const KIND_KEM = 1;
const INT8_OID = 20;

/** BIGINT columns come back as numbers; the store never holds one above 2^53 (ms times, seqs). */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} is beyond the safe integer range`);
  return n;
}

const typeParsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text'),
} as unknown as CustomTypesConfig;

interface Queryable {
  query<R extends QueryResultRow>(config: QueryConfig): Promise<pg.QueryResult<R>>;
}

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

const toDevice = (r: DeviceRow): StoredDevice => ({
  deviceId: r.device_id,
  accountId: r.account_id,
  signingKey: r.signing_key,
  certificate: r.certificate,
  registeredAt: r.registered_at,
});

// Named statements are prepared once per pooled connection.
const SQL = {
  directoryLookup: 'SELECT account_id FROM device_directory WHERE device_id = $1',
  directoryClaim: `INSERT INTO device_directory (device_id, account_id, claim, created_at)
    VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
    ON CONFLICT (device_id) DO NOTHING RETURNING account_id, claim`,
  directoryRead: 'SELECT account_id, claim FROM device_directory WHERE device_id = $1',
  directoryReleaseOrphan: `DELETE FROM device_directory WHERE device_id = $1 AND claim = $2
    AND created_at < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $3`,
  getDevice: 'SELECT * FROM devices WHERE account_id = $1 AND device_id = $2',
  accountExists: 'SELECT 1 FROM accounts WHERE account_id = $1',
  lockAccount: 'SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE',
  insertAccount: 'INSERT INTO accounts (account_id, created_at) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING',
  countDevices: 'SELECT count(*)::bigint AS n FROM devices WHERE account_id = $1',
  insertDevice: `INSERT INTO devices (account_id, device_id, signing_key, certificate, registered_at)
    VALUES ($1, $2, $3, $4, $5)`,
  updateCertificate: 'UPDATE devices SET certificate = $3 WHERE account_id = $1 AND device_id = $2',
  lockDevice: 'SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2 FOR UPDATE',
  putSigned: `INSERT INTO signed_prekeys (account_id, device_id, kind, key_id, public_key, signature)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (account_id, device_id, kind) DO UPDATE
    SET key_id = EXCLUDED.key_id, public_key = EXCLUDED.public_key, signature = EXCLUDED.signature`,
  putOneTime: `INSERT INTO one_time_prekeys (account_id, device_id, kind, key_id, public_key, signature)
    SELECT $1, $2, $3, k.key_id, k.public_key, k.signature
    FROM unnest($4::bigint[], $5::bytea[], $6::bytea[]) AS k (key_id, public_key, signature)
    ON CONFLICT (account_id, device_id, kind, key_id) DO UPDATE
    SET public_key = EXCLUDED.public_key, signature = EXCLUDED.signature`,
  countOneTime: `SELECT
      count(*) FILTER (WHERE kind = ${KIND_X25519})::bigint AS x25519,
      count(*) FILTER (WHERE kind = ${KIND_KEM})::bigint AS kem
    FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2`,
  bundleDevices: `SELECT d.*,
      s.key_id AS s_id, s.public_key AS s_key, s.signature AS s_sig,
      k.key_id AS k_id, k.public_key AS k_key, k.signature AS k_sig
    FROM devices d
    JOIN signed_prekeys s ON s.account_id = d.account_id AND s.device_id = d.device_id AND s.kind = ${KIND_X25519}
    JOIN signed_prekeys k ON k.account_id = d.account_id AND k.device_id = d.device_id AND k.kind = ${KIND_KEM}
    WHERE d.account_id = $1
    ORDER BY d.registered_at, d.device_id`,
  takeOneTime: `DELETE FROM one_time_prekeys
    WHERE account_id = $1 AND device_id = $2 AND kind = $3 AND key_id = (
      SELECT key_id FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2 AND kind = $3
      ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING key_id, public_key, signature`,
  lockTokens: 'SELECT pg_advisory_xact_lock($1, $2)',
  removeTokens: 'DELETE FROM delivery_tokens WHERE account_id = $1 AND token_hash = ANY ($2::bytea[])',
  addTokens: `INSERT INTO delivery_tokens (account_id, token_hash) SELECT $1, t FROM unnest($2::bytea[]) AS t
    ON CONFLICT (account_id, token_hash) DO NOTHING`,
  countTokens: 'SELECT count(*)::bigint AS n FROM delivery_tokens WHERE account_id = $1',
  hasToken: 'SELECT 1 FROM delivery_tokens WHERE account_id = $1 AND token_hash = $2',
  enqueue: 'SELECT pigeon_enqueue($1, $2, $3, $4, $5, $6, $7) AS outcome',
  mailboxWrites: `SELECT pigeon_mailbox_writes($1::boolean[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bigint[],
    $6::bigint[], $7::bigint[], $8::bigint[], $9::bytea[], $10::integer[], $11::integer[]) AS outcomes`,
  pending: `SELECT seq, message_id, envelope, received_at FROM messages
    WHERE recipient = $1 AND seq > $2 AND expires_at > $3 ORDER BY seq LIMIT $4`,
  // The reads of many connections in one statement; r.i says which read a row answers.
  pendingMany: `SELECT r.i, m.seq, m.message_id, m.envelope, m.received_at
    FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::integer[]) WITH ORDINALITY AS r (recipient, after_seq, now, lim, i)
    CROSS JOIN LATERAL (SELECT seq, message_id, envelope, received_at FROM messages
      WHERE recipient = r.recipient AND seq > r.after_seq AND expires_at > r.now ORDER BY seq LIMIT r.lim) AS m
    ORDER BY r.i, m.seq`,
  // The sweep's question for many idle mailboxes at once: which have mail after their cursor.
  mailboxesWithMail: `SELECT r.i FROM unnest($1::bytea[], $2::bigint[]) WITH ORDINALITY AS r (recipient, after_seq, i)
    WHERE EXISTS (SELECT 1 FROM messages m WHERE m.recipient = r.recipient AND m.seq > r.after_seq AND m.expires_at > $3)`,
  ack: 'SELECT pigeon_ack($1, $2::bytea[]) AS n',
  sweep: 'SELECT pigeon_sweep_batch($1, $2) AS n',
  usage: 'SELECT messages, bytes FROM mailbox_usage WHERE device_id = $1',
  // linked devices (migration 4)
  getList: 'SELECT counter, list FROM device_lists WHERE account_id = $1',
  getListForUpdate: 'SELECT counter, list FROM device_lists WHERE account_id = $1 FOR UPDATE',
  putList: `INSERT INTO device_lists (account_id, counter, list) VALUES ($1, $2, $3)
    ON CONFLICT (account_id) DO UPDATE SET counter = EXCLUDED.counter, list = EXCLUDED.list`,
  unlistedDevices: 'SELECT device_id FROM devices WHERE account_id = $1 AND NOT (device_id = ANY ($2::bytea[]))',
  deleteDevicePreKeys: `WITH a AS (DELETE FROM signed_prekeys WHERE account_id = $1 AND device_id = ANY ($2::bytea[]))
    DELETE FROM one_time_prekeys WHERE account_id = $1 AND device_id = ANY ($2::bytea[])`,
  deleteDevices: 'DELETE FROM devices WHERE account_id = $1 AND device_id = ANY ($2::bytea[])',
  deleteMailbox: `WITH m AS (DELETE FROM messages WHERE recipient = $1), u AS (DELETE FROM mailbox_usage WHERE device_id = $1)
    DELETE FROM device_directory WHERE device_id = $1`,
  provisioningSweep: 'DELETE FROM provisioning WHERE expires_at <= $1',
  provisioningOpen: `INSERT INTO provisioning (provisioning_id, expires_at, envelope) VALUES ($1, $2, NULL)
    ON CONFLICT (provisioning_id) DO NOTHING`,
  provisioningFill: 'UPDATE provisioning SET envelope = $2 WHERE provisioning_id = $1 AND expires_at > $3 AND envelope IS NULL',
  provisioningGet: 'SELECT envelope FROM provisioning WHERE provisioning_id = $1 AND expires_at > $2',
  provisioningTake: `DELETE FROM provisioning WHERE provisioning_id = $1 AND expires_at > $2 AND envelope IS NOT NULL
    RETURNING envelope`,
} as const;

type StatementName = keyof typeof SQL;
const stmt = (name: StatementName, values: unknown[]): QueryConfig => ({ name, text: SQL[name], values });

type EnqueueValues = readonly [Buffer, Buffer, Buffer, number, number, number, number];
/** One write of a group-commit batch: an enqueue (its pigeon_enqueue arguments) or an ack. */
type MailboxWrite = { readonly kind: 'enqueue'; readonly values: EnqueueValues } | { readonly kind: 'ack'; readonly deviceId: Buffer; readonly messageIds: readonly Buffer[] };
interface PendingRead {
  readonly deviceId: Buffer;
  readonly afterSeq: number;
  readonly now: number;
  readonly limit: number;
}
interface PendingRow {
  seq: number;
  message_id: Buffer;
  envelope: Buffer;
  received_at: number;
}
const toMessage = (r: PendingRow): StoredMessage => ({ seq: r.seq, messageId: r.message_id, envelope: r.envelope, receivedAt: r.received_at });
const writeKey = (w: MailboxWrite): Buffer => (w.kind === 'enqueue' ? w.values[0] : w.deviceId);

/** Thrown inside a transaction to roll it back and return a refusal. */
class Refusal<T> {
  constructor(readonly value: T) {}
}

/**
 * Applies the pending migrations of one database, each in its own transaction, holding a
 * session advisory lock for the whole run so concurrent openers wait instead of racing.
 * `upTo` stops early (tests migrate from version N-1). Returns the version before and after.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  upTo: number = LATEST_POSTGRES_SCHEMA_VERSION,
): Promise<{ readonly from: number; readonly to: number }> {
  await client.query('SELECT pg_advisory_lock($1::bigint)', [BigInt(MIGRATION_LOCK_KEY).toString()]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`);
    const res = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const from = res.rows[0]?.v ?? 0;
    if (from > LATEST_POSTGRES_SCHEMA_VERSION) {
      throw new RelayServerError('SCHEMA_TOO_NEW', `database schema ${from} is newer than this relay (${LATEST_POSTGRES_SCHEMA_VERSION})`);
    }
    let to = from;
    for (const m of POSTGRES_MIGRATIONS) {
      if (m.version <= from || m.version > upTo) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      to = m.version;
    }
    return { from, to };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [BigInt(MIGRATION_LOCK_KEY).toString()]).catch(() => undefined);
  }
}

/** Opens pools to every shard, migrates each one and checks that the shard list matches theirs. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresRelayStore> {
  const shards = parseShardList(options.url);
  const poolSize = positiveInt(options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE, 'poolSize');
  const pools = shards.map(
    (s) =>
      new pg.Pool({
        connectionString: s.url,
        max: poolSize,
        connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS,
        idleTimeoutMillis: options.idleTimeoutMs ?? DEFAULT_POSTGRES_IDLE_TIMEOUT_MS,
        statement_timeout: options.statementTimeoutMs ?? DEFAULT_POSTGRES_STATEMENT_TIMEOUT_MS,
        idle_in_transaction_session_timeout: POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        application_name: options.applicationName ?? 'pigeon-relay',
        keepAlive: true,
        types: typeParsers,
      }),
  );
  // Without a listener an idle connection's error (server restart) would crash the process.
  for (const pool of pools) pool.on('error', (e) => options.onBackgroundError?.(e));
  try {
    await Promise.all(shards.map((s, i) => prepareShard(pools[i]!, s, shards)));
  } catch (e) {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    throw e;
  }
  return new PostgresRelayStore(shards, pools, options.groupCommit ?? true);
}

async function prepareShard(pool: pg.Pool, shard: ResolvedShard, all: readonly ResolvedShard[]): Promise<void> {
  const client = await pool.connect();
  try {
    await migratePostgres(client);
    const set = canonicalShardSet(all.map((s) => s.name));
    await client.query(
      `INSERT INTO shard_identity (shard_name, shard_set, created_at) VALUES ($1, $2, $3) ON CONFLICT (singleton) DO NOTHING`,
      [shard.name, set, Date.now()],
    );
    const row = (await client.query<{ shard_name: string; shard_set: string[] }>('SELECT shard_name, shard_set FROM shard_identity')).rows[0]!;
    if (row.shard_name !== shard.name) {
      throw new RelayServerError('BAD_OPTION', `the database at shard ${shard.name} was set up as shard ${row.shard_name}`);
    }
    if (row.shard_set.join('\n') !== set.join('\n')) {
      throw new RelayServerError(
        'BAD_OPTION',
        `shard ${shard.name} belongs to the shard list [${row.shard_set.join(', ')}], not [${set.join(', ')}]; changing the list needs a data move`,
      );
    }
  } finally {
    client.release();
  }
}

/** Without group commit every batch is one operation (still one at a time per shard, in order). */
const batchLimits = (groupCommit: boolean, maxWeight: number): BatchLimits => ({ maxItems: groupCommit ? DEFAULT_MAX_BATCH : 1, maxWeight });

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RelayServerError('BAD_OPTION', `${name} must be a positive integer`);
  return n;
}

export class PostgresRelayStore implements RelayStore {
  /** Per mailbox: one write batch per shard at a time, resolved in order (postgres-group-commit.ts). */
  readonly resolvesInCommitOrder = true;
  private closed = false;
  private readonly router: ShardRouter;
  /** Enqueues and acks, one batch per shard at a time (postgres-group-commit.ts). */
  private readonly writes: GroupCommitter<MailboxWrite, string | number>;
  /** Mailbox reads of many connections, one statement per shard at a time. */
  private readonly reads: GroupCommitter<PendingRead, StoredMessage[]>;
  /** deviceId (hex) -> accountId, only for devices whose row was seen; insertion order = age. */
  private readonly deviceAccounts = new Map<string, Buffer>();

  constructor(
    readonly shards: readonly ResolvedShard[],
    private readonly pools: readonly pg.Pool[],
    groupCommit = true,
  ) {
    this.router = new ShardRouter(shards.map((s) => s.name));
    this.writes = new GroupCommitter<MailboxWrite, string | number>(
      {
        key: writeKey,
        one: async (shard, w) =>
          w.kind === 'enqueue'
            ? ((await this.rows<{ outcome: string }>(this.pools[shard]!, 'enqueue', [...w.values]))[0]?.outcome ?? '')
            : ((await this.rows<{ n: number }>(this.pools[shard]!, 'ack', [w.deviceId, w.messageIds]))[0]?.n ?? 0),
        many: async (shard, ws) => {
          // Column arrays; an ack's id list travels flattened, its slice given by 1-based bounds.
          const isAck: boolean[] = [];
          const cols: unknown[][] = [[], [], [], [], [], [], []];
          const ackIds: Buffer[] = [];
          const starts: (number | null)[] = [];
          const ends: (number | null)[] = [];
          for (const w of ws) {
            if (w.kind === 'enqueue') {
              isAck.push(false);
              w.values.forEach((v, i) => cols[i]!.push(v));
              starts.push(null);
              ends.push(null);
            } else {
              isAck.push(true);
              cols[0]!.push(w.deviceId);
              for (let i = 1; i < 7; i++) cols[i]!.push(null);
              starts.push(ackIds.length + 1);
              ackIds.push(...w.messageIds);
              ends.push(ackIds.length);
            }
          }
          const [row] = await this.rows<{ outcomes: string[] }>(this.pools[shard]!, 'mailboxWrites', [isAck, ...cols, ackIds, starts, ends]);
          const outcomes = row?.outcomes ?? [];
          return outcomes.map((o, i) => (isAck[i] ? Number(o) : o));
        },
        weight: (w) => (w.kind === 'enqueue' ? w.values[2].length : 16 * w.messageIds.length),
      },
      batchLimits(groupCommit, WRITE_BATCH_MAX_BYTES),
    );
    this.reads = new GroupCommitter<PendingRead, StoredMessage[]>(
      {
        key: (r) => r.deviceId,
        one: async (shard, r) => (await this.rows<PendingRow>(this.pools[shard]!, 'pending', [r.deviceId, r.afterSeq, r.now, r.limit])).map(toMessage),
        many: async (shard, rs) => {
          const rows = await this.rows<PendingRow & { i: number }>(this.pools[shard]!, 'pendingMany', [
            rs.map((r) => r.deviceId),
            rs.map((r) => r.afterSeq),
            rs.map((r) => r.now),
            rs.map((r) => r.limit),
          ]);
          const out = rs.map((): StoredMessage[] => []);
          for (const row of rows) out[row.i - 1]!.push(toMessage(row));
          return out;
        },
        weight: (r) => r.limit,
      },
      batchLimits(groupCommit, READ_BATCH_MAX_ROWS),
    );
  }

  /** The first shard's pool, where a cluster's blobs live (blobs/postgres-blob-store.ts). */
  blobPool(): pg.Pool {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'store is closed');
    return this.pools[0]!;
  }

  /** Which shard (index into `shards`) holds data keyed by this account or device id. */
  shardOf(key: Uint8Array): number {
    return this.router.shardOf(key);
  }

  private pool(key: Uint8Array): pg.Pool {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'store is closed');
    return this.pools[this.router.shardOf(key)]!;
  }

  private async rows<R extends QueryResultRow>(on: Queryable, name: StatementName, values: unknown[]): Promise<R[]> {
    return (await on.query<R>(stmt(name, values))).rows;
  }

  /** Runs fn in a transaction on the shard of `key`; a thrown Refusal rolls back and is returned. */
  private async tx<T>(key: Uint8Array, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool(key).connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
        }
        if (e instanceof Refusal) return e.value as T;
        throw e;
      }
    } finally {
      // A connection whose rollback failed is in an unknown state: destroy it.
      client.release(broken);
    }
  }

  // ---- accounts and devices ----------------------------------------------------------------

  private remember(deviceId: Uint8Array, accountId: Uint8Array): void {
    const key = b(deviceId).toString('hex');
    this.deviceAccounts.delete(key);
    this.deviceAccounts.set(key, Buffer.from(accountId));
    if (this.deviceAccounts.size > DEVICE_ACCOUNT_CACHE_SIZE) {
      const oldest = this.deviceAccounts.keys().next().value;
      if (oldest !== undefined) this.deviceAccounts.delete(oldest);
    }
  }

  private async accountOf(deviceId: Uint8Array): Promise<Buffer | undefined> {
    const cached = this.deviceAccounts.get(b(deviceId).toString('hex'));
    if (cached !== undefined) return cached;
    const rows = await this.rows<{ account_id: Buffer }>(this.pool(deviceId), 'directoryLookup', [b(deviceId)]);
    return rows[0]?.account_id;
  }

  private async deviceRow(accountId: Uint8Array, deviceId: Uint8Array): Promise<DeviceRow | undefined> {
    return (await this.rows<DeviceRow>(this.pool(accountId), 'getDevice', [b(accountId), b(deviceId)]))[0];
  }

  async registerDevice(d: StoredDevice, maxDevicesPerAccount: number): Promise<RegisterDeviceResult> {
    const deviceId = b(d.deviceId);
    const accountId = b(d.accountId);
    // Step 1, device shard: claim the directory entry (or learn who holds it).
    for (let attempt = 0; ; attempt++) {
      const claim = randomBytes(16);
      const dir = this.pool(deviceId);
      let owner = (await this.rows<{ account_id: Buffer; claim: Buffer }>(dir, 'directoryClaim', [deviceId, accountId, claim]))[0];
      owner ??= (await this.rows<{ account_id: Buffer; claim: Buffer }>(dir, 'directoryRead', [deviceId]))[0];
      if (owner === undefined) throw new Error('device directory row vanished during registration');
      if (owner.account_id.equals(accountId)) break;
      if ((await this.deviceRow(owner.account_id, deviceId)) !== undefined) return 'account_mismatch';
      // The directory names another account that has no such device: a registration that died
      // between the two shards. Release it once it is old enough not to be one still running.
      const released = await dir.query(stmt('directoryReleaseOrphan', [deviceId, owner.claim, ORPHAN_DIRECTORY_GRACE_MS]));
      if (released.rowCount !== 1 || attempt >= 2) return 'account_mismatch';
    }
    // Step 2, account shard: one transaction holding the account row lock, so concurrent
    // registrations cannot both pass the device-count check.
    const result = await this.tx(accountId, async (c): Promise<RegisterDeviceResult> => {
      if ((await this.rows(c, 'lockAccount', [accountId])).length === 0) {
        await c.query(stmt('insertAccount', [accountId, d.registeredAt]));
        await c.query(stmt('lockAccount', [accountId]));
      }
      if ((await this.rows(c, 'getDevice', [accountId, deviceId])).length > 0) {
        await c.query(stmt('updateCertificate', [accountId, deviceId, b(d.certificate)]));
        return 'updated';
      }
      const [count] = await this.rows<{ n: number }>(c, 'countDevices', [accountId]);
      if ((count?.n ?? 0) >= maxDevicesPerAccount) throw new Refusal<RegisterDeviceResult>('account_full'); // also undoes a new account row
      await c.query(stmt('insertDevice', [accountId, deviceId, b(d.signingKey), b(d.certificate), d.registeredAt]));
      return 'created';
    });
    if (result === 'created' || result === 'updated') this.remember(deviceId, accountId);
    return result;
  }

  async getDevice(deviceId: Uint8Array): Promise<StoredDevice | undefined> {
    const accountId = await this.accountOf(deviceId);
    if (accountId === undefined) return undefined;
    const row = await this.deviceRow(accountId, deviceId);
    if (row === undefined) return undefined;
    this.remember(deviceId, accountId);
    return toDevice(row);
  }

  async accountExists(accountId: Uint8Array): Promise<boolean> {
    return (await this.rows(this.pool(accountId), 'accountExists', [b(accountId)])).length > 0;
  }

  // ---- prekeys -------------------------------------------------------------------------------

  async putPreKeys(deviceId: Uint8Array, u: PreKeyUpload, maxOneTimePerKind: number): Promise<'ok' | 'limit'> {
    const accountId = await this.accountOf(deviceId);
    const unknown = () => new RelayServerError('BAD_STATE', 'prekeys for a device that is not registered');
    if (accountId === undefined) throw unknown();
    const device = b(deviceId);
    return this.tx(accountId, async (c) => {
      // The device row lock serialises uploads of one device, so the count check is exact.
      if ((await this.rows(c, 'lockDevice', [accountId, device])).length === 0) throw unknown();
      for (const [kind, k] of [
        [KIND_X25519, u.signedPreKey],
        [KIND_KEM, u.kemLastResortPreKey],
      ] as const) {
        if (k !== null) await c.query(stmt('putSigned', [accountId, device, kind, k.id, b(k.publicKey), b(k.signature)]));
      }
      await this.putOneTime(c, accountId, device, KIND_X25519, u.oneTimePreKeys);
      await this.putOneTime(c, accountId, device, KIND_KEM, u.kemOneTimePreKeys);
      const [n] = await this.rows<{ x25519: number; kem: number }>(c, 'countOneTime', [accountId, device]);
      if ((n?.x25519 ?? 0) > maxOneTimePerKind || (n?.kem ?? 0) > maxOneTimePerKind) throw new Refusal<'limit'>('limit');
      return 'ok' as const;
    });
  }

  private async putOneTime(
    c: PoolClient,
    accountId: Buffer,
    deviceId: Buffer,
    kind: number,
    keys: readonly (WirePreKey | WireSignedPreKey)[],
  ): Promise<void> {
    if (keys.length === 0) return;
    // One statement may not touch a row twice: a repeated id keeps its last key (as SQLite's
    // INSERT OR REPLACE does).
    const byId = new Map<number, WirePreKey | WireSignedPreKey>();
    for (const k of keys) byId.set(k.id, k);
    const list = [...byId.values()];
    await c.query(
      stmt('putOneTime', [
        accountId,
        deviceId,
        kind,
        list.map((k) => k.id),
        list.map((k) => b(k.publicKey)),
        list.map((k) => ('signature' in k ? b(k.signature) : null)),
      ]),
    );
  }

  async preKeyCounts(deviceId: Uint8Array): Promise<PreKeyCounts> {
    const accountId = await this.accountOf(deviceId);
    if (accountId === undefined) return { oneTimePreKeys: 0, kemOneTimePreKeys: 0 };
    const [n] = await this.rows<{ x25519: number; kem: number }>(this.pool(accountId), 'countOneTime', [accountId, b(deviceId)]);
    return { oneTimePreKeys: n?.x25519 ?? 0, kemOneTimePreKeys: n?.kem ?? 0 };
  }

  async takePreKeyBundles(accountIdIn: Uint8Array): Promise<TakenBundle[] | undefined> {
    const accountId = b(accountIdIn);
    return this.tx(accountId, async (c) => {
      if ((await this.rows(c, 'accountExists', [accountId])).length === 0) return undefined;
      type Row = DeviceRow & { s_id: number; s_key: Buffer; s_sig: Buffer; k_id: number; k_key: Buffer; k_sig: Buffer };
      const bundles: TakenBundle[] = [];
      for (const row of await this.rows<Row>(c, 'bundleDevices', [accountId])) {
        const [oneTime] = await this.rows<PreKeyRow>(c, 'takeOneTime', [accountId, row.device_id, KIND_X25519]);
        const [kemOneTime] = await this.rows<PreKeyRow>(c, 'takeOneTime', [accountId, row.device_id, KIND_KEM]);
        bundles.push({
          device: toDevice(row),
          signedPreKey: { id: row.s_id, publicKey: row.s_key, signature: row.s_sig },
          oneTimePreKey: oneTime === undefined ? null : { id: oneTime.key_id, publicKey: oneTime.public_key },
          kemPreKey:
            kemOneTime === undefined
              ? { id: row.k_id, publicKey: row.k_key, signature: row.k_sig }
              : { id: kemOneTime.key_id, publicKey: kemOneTime.public_key, signature: kemOneTime.signature ?? new Uint8Array(0) },
          kemLastResort: kemOneTime === undefined,
        });
      }
      return bundles;
    });
  }

  // ---- delivery tokens -----------------------------------------------------------------------

  async setDeliveryTokens(
    accountIdIn: Uint8Array,
    addHashes: readonly Uint8Array[],
    removeHashes: readonly Uint8Array[],
    maxPerAccount: number,
  ): Promise<'ok' | 'limit'> {
    const accountId = b(accountIdIn);
    return this.tx(accountId, async (c) => {
      // Tokens may be set before any device row exists, so the per-account lock is advisory.
      await c.query(stmt('lockTokens', [TOKEN_LOCK_CLASS, accountId.length >= 4 ? accountId.readInt32BE(0) : 0]));
      if (removeHashes.length > 0) await c.query(stmt('removeTokens', [accountId, removeHashes.map(b)]));
      if (addHashes.length > 0) await c.query(stmt('addTokens', [accountId, addHashes.map(b)]));
      const [n] = await this.rows<{ n: number }>(c, 'countTokens', [accountId]);
      if ((n?.n ?? 0) > maxPerAccount) throw new Refusal<'limit'>('limit');
      return 'ok' as const;
    });
  }

  async hasDeliveryToken(accountId: Uint8Array, tokenHash: Uint8Array): Promise<boolean> {
    return (await this.rows(this.pool(accountId), 'hasToken', [b(accountId), b(tokenHash)])).length > 0;
  }

  // ---- mailboxes -----------------------------------------------------------------------------

  async enqueue(m: NewMessage, limits: MailboxLimits): Promise<EnqueueResult> {
    this.pool(m.recipientDeviceId); // refuses after close
    const shard = this.router.shardOf(m.recipientDeviceId);
    const values: EnqueueValues = [b(m.recipientDeviceId), b(m.messageId), b(m.envelope), m.receivedAt, m.expiresAt, limits.maxMessages, limits.maxBytes];
    const outcome = await this.writes.add(shard, { kind: 'enqueue', values });
    if (outcome !== 'stored' && outcome !== 'duplicate' && outcome !== 'full') throw new Error(`pigeon_enqueue returned ${String(outcome)}`);
    return outcome;
  }

  async mailboxesWithMail(probes: readonly MailboxProbe[], now: number): Promise<boolean[]> {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'store is closed');
    const byShard = new Map<number, number[]>();
    probes.forEach((p, i) => {
      const shard = this.router.shardOf(p.deviceId);
      const list = byShard.get(shard);
      if (list === undefined) byShard.set(shard, [i]);
      else list.push(i);
    });
    const out = probes.map(() => false);
    await Promise.all(
      [...byShard].map(async ([shard, indexes]) => {
        const rows = await this.rows<{ i: string | number }>(this.pools[shard]!, 'mailboxesWithMail', [
          indexes.map((i) => b(probes[i]!.deviceId)),
          indexes.map((i) => probes[i]!.afterSeq),
          now,
        ]);
        for (const row of rows) out[indexes[Number(row.i) - 1]!] = true;
      }),
    );
    return out;
  }

  async pending(deviceId: Uint8Array, afterSeq: number, now: number, limit: number): Promise<StoredMessage[]> {
    this.pool(deviceId); // refuses after close
    return this.reads.add(this.router.shardOf(deviceId), { deviceId: b(deviceId), afterSeq, now, limit });
  }

  async ack(deviceId: Uint8Array, messageIds: readonly Uint8Array[]): Promise<number> {
    this.pool(deviceId); // refuses after close
    if (messageIds.length === 0) return 0;
    const shard = this.router.shardOf(deviceId);
    return Number(await this.writes.add(shard, { kind: 'ack', deviceId: b(deviceId), messageIds: messageIds.map(b) }));
  }

  /** Batches sent to the server, operations in them, and batches that failed as a whole (since open). */
  batchStats(): StoreBatchStats {
    return { writes: { ...this.writes.stats }, reads: { ...this.reads.stats } };
  }

  async sweepExpired(now: number): Promise<number> {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'store is closed');
    const perShard = await Promise.all(
      this.pools.map(async (pool) => {
        let total = 0;
        for (;;) {
          const [row] = await this.rows<{ n: number }>(pool, 'sweep', [now, SWEEP_BATCH_MAILBOXES]);
          const n = row?.n ?? 0;
          if (n === 0) return total;
          total += n;
        }
      }),
    );
    return perShard.reduce((a, n) => a + n, 0);
  }

  async mailboxUsage(deviceId: Uint8Array): Promise<{ readonly messages: number; readonly bytes: number }> {
    const [row] = await this.rows<{ messages: number; bytes: number }>(this.pool(deviceId), 'usage', [b(deviceId)]);
    return { messages: row?.messages ?? 0, bytes: row?.bytes ?? 0 };
  }

  /** Liveness of every shard (for /healthz): rejects when one does not answer. */
  async ping(): Promise<void> {
    if (this.closed) throw new RelayServerError('STORE_CLOSED', 'store is closed');
    await Promise.all(this.pools.map((p) => p.query('SELECT 1')));
  }

  // ---- linked devices (linked-devices.ts) -----------------------------------------------------

  async getDeviceList(accountId: Uint8Array): Promise<StoredDeviceList | undefined> {
    const [row] = await this.rows<{ counter: number; list: Buffer }>(this.pool(accountId), 'getList', [b(accountId)]);
    return row === undefined ? undefined : { counter: row.counter, bytes: row.list };
  }

  async putDeviceList(accountIdIn: Uint8Array, list: StoredDeviceList, listedDeviceIds: readonly Uint8Array[]): Promise<PutDeviceListResult> {
    const accountId = b(accountIdIn);
    // Account shard, one transaction under the account row lock (the same lock registrations
    // take): the counter check, the list and the unlisted devices' rows commit together.
    const result = await this.tx(accountId, async (c): Promise<PutDeviceListResult> => {
      if ((await this.rows(c, 'lockAccount', [accountId])).length === 0) {
        await c.query(stmt('insertAccount', [accountId, 0]));
        await c.query(stmt('lockAccount', [accountId]));
      }
      const [current] = await this.rows<{ counter: number; list: Buffer }>(c, 'getListForUpdate', [accountId]);
      if (current !== undefined) {
        if (current.counter === list.counter && current.list.equals(b(list.bytes))) return { outcome: 'unchanged' };
        if (list.counter <= current.counter) return { outcome: 'stale' };
      }
      await c.query(stmt('putList', [accountId, list.counter, b(list.bytes)]));
      const gone = (await this.rows<{ device_id: Buffer }>(c, 'unlistedDevices', [accountId, listedDeviceIds.map(b)])).map((r) => r.device_id);
      if (gone.length > 0) {
        await c.query(stmt('deleteDevicePreKeys', [accountId, gone]));
        await c.query(stmt('deleteDevices', [accountId, gone]));
      }
      return { outcome: 'stored', removed: gone };
    });
    if (result.outcome === 'stored') {
      // Device shards: the mailboxes and directory rows. The device rows are already gone, so a
      // failure here leaves only unreachable rows (getDevice finds no device), never a live device.
      for (const deviceId of result.removed) {
        this.deviceAccounts.delete(b(deviceId).toString('hex'));
        // After the mailbox writes already issued (a late enqueue would leave an orphan mailbox).
        await this.writes.settled(this.router.shardOf(deviceId));
        await this.pool(deviceId).query(stmt('deleteMailbox', [b(deviceId)]));
      }
    }
    return result;
  }

  async openProvisioning(provisioningId: Uint8Array, now: number, expiresAt: number): Promise<'opened' | 'exists'> {
    const pool = this.pool(provisioningId);
    await pool.query(stmt('provisioningSweep', [now]));
    const res = await pool.query(stmt('provisioningOpen', [b(provisioningId), expiresAt]));
    return res.rowCount === 1 ? 'opened' : 'exists';
  }

  async putProvisioningMessage(provisioningId: Uint8Array, envelope: Uint8Array, now: number): Promise<'stored' | 'unknown' | 'full'> {
    const pool = this.pool(provisioningId);
    const res = await pool.query(stmt('provisioningFill', [b(provisioningId), b(envelope), now]));
    if (res.rowCount === 1) return 'stored';
    return (await this.rows(pool, 'provisioningGet', [b(provisioningId), now])).length === 0 ? 'unknown' : 'full';
  }

  async takeProvisioningMessage(provisioningId: Uint8Array, now: number): Promise<Uint8Array | undefined> {
    const [row] = await this.rows<{ envelope: Buffer }>(this.pool(provisioningId), 'provisioningTake', [b(provisioningId), now]);
    return row?.envelope;
  }

  /** Waits for calls in progress, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Mailbox writes already accepted still run (their callers are waiting for the commit).
    await Promise.all([this.writes.allSettled(), this.reads.allSettled()]);
    await Promise.all(this.pools.map((p) => p.end()));
  }
}
