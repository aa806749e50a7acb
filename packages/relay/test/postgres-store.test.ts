import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { RelayServerError } from '../src/errors.js';
import { LATEST_POSTGRES_SCHEMA_VERSION, POSTGRES_MIGRATIONS } from '../src/store/postgres-migrations.js';
import { migratePostgres, openPostgresStore, SWEEP_BATCH_MAILBOXES, type PostgresRelayStore, type PostgresStoreOptions } from '../src/store/postgres-store.js';
import { runStoreConformance } from './store-conformance.js';
import { postgresUnreachable, TestDatabases } from './postgres-test-db.js';

const unreachable = await postgresUnreachable();
const dbs = new TestDatabases();
after(() => dbs.dropAll());

const id = (): Uint8Array => new Uint8Array(randomBytes(16));
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const LIMITS = { maxMessages: 1000, maxBytes: 1 << 20 };
// Small pools that close idle connections quickly: the suites keep several stores open at once.
const TEST_POOL: Partial<PostgresStoreOptions> = { poolSize: 4, idleTimeoutMs: 1000 };
const open = (url: PostgresStoreOptions['url'], extra: Partial<PostgresStoreOptions> = {}) => openPostgresStore({ url, ...TEST_POOL, ...extra });
const isCode = (code: string) => (e: unknown) => e instanceof RelayServerError && e.code === code;

if (unreachable !== undefined) {
  describe('PostgreSQL store', { skip: unreachable }, () => {
    it('needs a reachable PostgreSQL server', () => undefined);
  });
} else {
  let oneShard: string[] = [];
  let threeShards: string[] = [];
  before(async () => {
    oneShard = await dbs.create(1);
    threeShards = await dbs.create(3);
  });
  runStoreConformance('postgres, 1 shard', () => open(oneShard[0]!));
  runStoreConformance('postgres, 3 shards (comma-separated list)', () => open(threeShards.join(',')));
  runStoreConformance('postgres, 1 shard, without group commit', () => open(oneShard[0]!, { groupCommit: false }));

  describe('postgres store: migrations', () => {
    it('a fresh database reaches the latest version, once per migration; reopening is a no-op', async () => {
      const [url] = await dbs.create(1);
      const s = await open(url!);
      await s.close();
      const again = await open(url!);
      await again.close();
      const rows = await dbs.sql<{ version: number }>(url!, 'SELECT version FROM schema_migrations ORDER BY version');
      assert.deepStrictEqual(rows.map((r) => r.version), POSTGRES_MIGRATIONS.map((m) => m.version));
      const tables = (await dbs.sql<{ t: string }>(url!, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")).map((r) => r.t);
      for (const t of ['accounts', 'devices', 'signed_prekeys', 'one_time_prekeys', 'delivery_tokens', 'device_directory', 'messages', 'mailbox_usage', 'shard_identity']) {
        assert.ok(tables.includes(t), t);
      }
    });

    it('relay nodes opening a fresh database together apply each migration exactly once', async () => {
      const [url] = await dbs.create(1);
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(url!, { poolSize: 2 })));
      await Promise.all(stores.map((s) => s.close()));
      const [row] = await dbs.sql<{ n: string }>(url!, 'SELECT count(*) AS n FROM schema_migrations');
      assert.equal(Number(row!.n), POSTGRES_MIGRATIONS.length);
    });

    for (const m of POSTGRES_MIGRATIONS) {
      it(`migration ${m.version} (${m.name}) applies on top of version ${m.version - 1} and keeps its data`, async () => {
        const [url] = await dbs.create(1);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const account = Buffer.alloc(16, 1);
        const deviceId = Buffer.alloc(16, 2);
        const messageId = Buffer.alloc(16, 3);
        try {
          assert.deepStrictEqual(await migratePostgres(client, m.version - 1), { from: 0, to: m.version - 1 });
          if (m.version - 1 >= 1) {
            // Data as a relay at version N-1 would have written it.
            await client.query('INSERT INTO accounts VALUES ($1, 5)', [account]);
            await client.query('INSERT INTO devices VALUES ($1, $2, $3, $4, 5)', [account, deviceId, Buffer.alloc(32, 4), Buffer.alloc(170, 5)]);
            await client.query('INSERT INTO device_directory VALUES ($1, $2, $3, 5)', [deviceId, account, Buffer.alloc(16)]);
            await client.query('INSERT INTO messages (recipient, message_id, envelope, received_at, expires_at) VALUES ($1, $2, $3, 6, 99999)', [deviceId, messageId, Buffer.alloc(7, 9)]);
            await client.query('INSERT INTO mailbox_usage VALUES ($1, 1, 7)', [deviceId]);
          }
          assert.deepStrictEqual(await migratePostgres(client), { from: m.version - 1, to: LATEST_POSTGRES_SCHEMA_VERSION });
        } finally {
          await client.end();
        }
        if (m.version - 1 >= 1) {
          const s = await open(url!);
          try {
            const d = await s.getDevice(deviceId);
            assert.ok(d);
            assert.deepStrictEqual(Buffer.from(d.accountId), account);
            assert.equal(d.registeredAt, 5);
            const mail = await s.pending(deviceId, 0, 0, 10);
            assert.equal(mail.length, 1);
            assert.deepStrictEqual(Buffer.from(mail[0]!.envelope), Buffer.alloc(7, 9));
            assert.deepStrictEqual(await s.mailboxUsage(deviceId), { messages: 1, bytes: 7 });
            // The migrated mailbox keeps working: duplicate detection and ack see the old row.
            assert.equal(await s.enqueue({ recipientDeviceId: deviceId, messageId, envelope: new Uint8Array(7), receivedAt: 7, expiresAt: 99999 }, LIMITS), 'duplicate');
            assert.equal(await s.ack(deviceId, [messageId]), 1);
            assert.deepStrictEqual(await s.mailboxUsage(deviceId), { messages: 0, bytes: 0 });
          } finally {
            await s.close();
          }
        }
      });
    }

    it('refuses a database written by a newer relay', async () => {
      const [url] = await dbs.create(1);
      await (await open(url!)).close();
      await dbs.sql(url!, 'INSERT INTO schema_migrations VALUES ($1, $2, 0)', [LATEST_POSTGRES_SCHEMA_VERSION + 1, 'future']);
      await assert.rejects(open(url!), isCode('SCHEMA_TOO_NEW'));
    });
  });

  describe('postgres store: sharding', () => {
    it('puts mailboxes and the directory on the device shard, account data on the account shard', async () => {
      const urls = await dbs.create(3);
      const s = await open(urls);
      const account = id();
      const devices = Array.from({ length: 6 }, () => ({ deviceId: id(), accountId: account, signingKey: new Uint8Array(32), certificate: new Uint8Array(8), registeredAt: 1 }));
      try {
        const recipients = Array.from({ length: 60 }, id);
        for (const r of recipients) assert.equal(await s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(3), receivedAt: 1, expiresAt: 99 }, LIMITS), 'stored');
        const perShard = await Promise.all(urls.map((u) => dbs.sql<{ r: Buffer }>(u, 'SELECT recipient AS r FROM messages')));
        perShard.forEach((rows, shard) => {
          assert.ok(rows.length > 0, `shard ${shard} holds some mailboxes`);
          for (const row of rows) assert.equal(s.shardOf(row.r), shard);
        });
        assert.equal(perShard.reduce((n, rows) => n + rows.length, 0), 60);

        for (const d of devices) assert.equal(await s.registerDevice(d, 10), 'created');
        const accountShard = s.shardOf(account);
        const deviceRows = await dbs.sql<{ n: string }>(urls[accountShard]!, 'SELECT count(*) AS n FROM devices WHERE account_id = $1', [Buffer.from(account)]);
        assert.equal(Number(deviceRows[0]!.n), 6);
        for (const d of devices) {
          const dir = await dbs.sql(urls[s.shardOf(d.deviceId)]!, 'SELECT 1 FROM device_directory WHERE device_id = $1', [Buffer.from(d.deviceId)]);
          assert.equal(dir.length, 1);
        }
      } finally {
        await s.close();
      }
      // A second node (empty cache, list in another order) finds the devices through the directory.
      const other = await open([...urls].reverse());
      try {
        for (const d of devices) assert.deepStrictEqual(Buffer.from((await other.getDevice(d.deviceId))!.accountId), Buffer.from(account));
        assert.equal((await other.takePreKeyBundles(account))!.length, 0);
      } finally {
        await other.close();
      }
    });

    it('routes by shard name, not list position, and refuses a changed shard list', async () => {
      const urls = await dbs.create(3);
      const first = await open(urls);
      const r = id();
      const messageId = id();
      await first.enqueue({ recipientDeviceId: r, messageId, envelope: new Uint8Array(1), receivedAt: 1, expiresAt: 99 }, LIMITS);
      await first.close();
      const reordered = await open([urls[2]!, urls[0]!, urls[1]!]);
      assert.equal((await reordered.pending(r, 0, 0, 10)).length, 1);
      await reordered.close();
      await assert.rejects(open(urls.slice(0, 2)), isCode('BAD_OPTION'));
      await assert.rejects(open([{ url: urls[0]!, name: 'renamed' }, urls[1]!, urls[2]!]), isCode('BAD_OPTION'));
    });

    it('two relay nodes never hand out the same one-time prekey', async () => {
      const urls = await dbs.create(3);
      const nodes = [await open(urls), await open(urls)];
      try {
        const d = { deviceId: id(), accountId: id(), signingKey: new Uint8Array(32), certificate: new Uint8Array(8), registeredAt: 1 };
        assert.equal(await nodes[0]!.registerDevice(d, 4), 'created');
        const keys = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, publicKey: new Uint8Array(32) }));
        const sig = { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) };
        assert.equal(await nodes[1]!.putPreKeys(d.deviceId, { signedPreKey: sig, kemLastResortPreKey: sig, oneTimePreKeys: keys, kemOneTimePreKeys: [] }, 100), 'ok');
        const taken = await Promise.all(Array.from({ length: 40 }, (_, i) => nodes[i % 2]!.takePreKeyBundles(d.accountId)));
        const ids = taken.map((t) => t![0]!.oneTimePreKey?.id).filter((x) => x !== undefined);
        assert.equal(ids.length, 30);
        assert.equal(new Set(ids).size, 30);
      } finally {
        await Promise.all(nodes.map((n) => n.close()));
      }
    });
  });

  describe('postgres store: behaviour under load and failure', () => {
    it('a reader paging by seq while writers commit concurrently never skips a message', async () => {
      const [url] = await dbs.create(1);
      const writer = await open(url!, { poolSize: 8 });
      const reader = await open(url!, { poolSize: 1 });
      try {
        const r = id();
        const total = 300;
        let writing = true;
        const writes = Promise.all(
          Array.from({ length: total }, () => writer.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(16), receivedAt: 1, expiresAt: 99 }, LIMITS)),
        ).finally(() => {
          writing = false;
        });
        const seen = new Set<string>();
        let cursor = 0;
        for (;;) {
          const stillWriting = writing;
          const batch = await reader.pending(r, cursor, 0, 50);
          for (const m of batch) {
            assert.ok(m.seq > cursor);
            cursor = m.seq;
            seen.add(hex(m.messageId));
          }
          if (!stillWriting && batch.length === 0) break;
        }
        assert.ok((await writes).every((x) => x === 'stored'));
        assert.equal(seen.size, total);
      } finally {
        await writer.close();
        await reader.close();
      }
    });

    it('sweeps more mailboxes than one batch holds', async () => {
      const [url] = await dbs.create(1);
      const s = await open(url!);
      try {
        const count = SWEEP_BATCH_MAILBOXES + 20;
        const recipients = Array.from({ length: count }, id);
        await Promise.all(recipients.map((r) => s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(2), receivedAt: 1, expiresAt: 10 }, LIMITS)));
        await s.enqueue({ recipientDeviceId: recipients[0]!, messageId: id(), envelope: new Uint8Array(2), receivedAt: 1, expiresAt: 20 }, LIMITS);
        assert.equal(await s.sweepExpired(10), count);
        assert.deepStrictEqual(await s.mailboxUsage(recipients[0]!), { messages: 1, bytes: 2 });
        assert.deepStrictEqual(await s.mailboxUsage(recipients[1]!), { messages: 0, bytes: 0 });
      } finally {
        await s.close();
      }
    });

    it('fails with an exception, not a crash, when the server drops its connections, and recovers', async () => {
      const [url] = await dbs.create(1);
      const background: unknown[] = [];
      const s = await open(url!, { onBackgroundError: (e) => background.push(e) });
      try {
        const r = id();
        await s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(5), receivedAt: 1, expiresAt: 99 }, LIMITS);
        const dbName = new URL(url!).pathname.slice(1);
        // What a PostgreSQL restart does to every open connection.
        await dbs.sql(url!, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
        let failures = 0;
        let usage: { messages: number; bytes: number } | undefined;
        for (let attempt = 0; attempt < 5 && usage === undefined; attempt++) {
          try {
            usage = await s.mailboxUsage(r);
          } catch (e) {
            assert.ok(e instanceof Error);
            failures++;
          }
        }
        assert.deepStrictEqual(usage, { messages: 1, bytes: 5 });
        assert.ok(failures <= 4);
      } finally {
        await s.close();
      }
    });

    it('rejects (does not crash) when a shard cannot be reached or the URL is bad', async () => {
      await assert.rejects(open('postgres://postgres@127.0.0.1:5432/pigeon_no_such_database_here'));
      await assert.rejects(open('mysql://localhost/x'), isCode('BAD_OPTION'));
      await assert.rejects(open([]), isCode('BAD_OPTION'));
      await assert.rejects(open(`${oneShard[0]!},${oneShard[0]!}`), isCode('BAD_OPTION'));
      await assert.rejects(open(oneShard[0]!, { poolSize: 0 }), isCode('BAD_OPTION'));
    });

    it('a write that fails inside a group commit fails alone', async () => {
      const [url] = await dbs.create(1);
      const s = await open(url!);
      try {
        const good = Array.from({ length: 10 }, id);
        const bad = id();
        // The server refuses NaN for a BIGINT: the batch fails, then each write is retried alone.
        const results = await Promise.allSettled([
          ...good.map((r) => s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(4), receivedAt: 1, expiresAt: 99 }, LIMITS)),
          s.enqueue({ recipientDeviceId: bad, messageId: id(), envelope: new Uint8Array(4), receivedAt: Number.NaN, expiresAt: 99 }, LIMITS),
        ]);
        assert.deepStrictEqual(results.slice(0, 10).map((r) => r.status === 'fulfilled' && r.value), Array(10).fill('stored'));
        assert.equal(results[10]!.status, 'rejected');
        for (const r of good) assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 1, bytes: 4 });
        assert.deepStrictEqual(await s.mailboxUsage(bad), { messages: 0, bytes: 0 });
        // Acks of many mailboxes in one turn share a commit and each get their own count.
        const mail = await Promise.all(good.map(async (r) => ({ r, m: (await s.pending(r, 0, 0, 10))[0]! })));
        const counts = await Promise.all(mail.map(({ r, m }, i) => s.ack(r, i % 2 === 0 ? [m.messageId] : [m.messageId, id()])));
        assert.deepStrictEqual(counts, Array(10).fill(1));
        for (const r of good) assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 0, bytes: 0 });
      } finally {
        await s.close();
      }
    });

    it('many concurrent sends through two nodes are each stored once, in batches, and readable once answered', async () => {
      const [url] = await dbs.create(1);
      const nodes = [await open(url!, { poolSize: 4 }), await open(url!, { poolSize: 4 })];
      const checker = new pg.Client({ connectionString: url });
      await checker.connect();
      try {
        const recipients = Array.from({ length: 40 }, id);
        // Every message is sent twice, once through each node (a client retrying elsewhere).
        const messages = Array.from({ length: 1200 }, (_, i) => ({ recipientDeviceId: recipients[i % recipients.length]!, messageId: id(), envelope: new Uint8Array(8), receivedAt: 1, expiresAt: 99 }));
        const unseenAtAnswer: string[] = [];
        const outcomes = await Promise.all(
          messages.flatMap((m) =>
            nodes.map(async (node) => {
              const outcome = await node.enqueue(m, LIMITS);
              // Answered means committed: a separate connection already sees the row.
              const rows = await checker.query('SELECT 1 FROM messages WHERE recipient = $1 AND message_id = $2', [Buffer.from(m.recipientDeviceId), Buffer.from(m.messageId)]);
              if (rows.rowCount !== 1) unseenAtAnswer.push(hex(m.messageId));
              return outcome;
            }),
          ),
        );
        assert.deepStrictEqual(unseenAtAnswer, []);
        for (let i = 0; i < messages.length; i++) {
          assert.deepStrictEqual([outcomes[2 * i], outcomes[2 * i + 1]].sort(), ['duplicate', 'stored'], `message ${i}`);
        }
        const [count] = await dbs.sql<{ n: string }>(url!, 'SELECT count(*) AS n FROM messages');
        assert.equal(Number(count!.n), messages.length);
        for (const r of recipients.slice(0, 3)) assert.deepStrictEqual(await nodes[0]!.mailboxUsage(r), { messages: 30, bytes: 240 });
        // Reads of many mailboxes share statements too, and each gets its own mailbox in seq order.
        const read = await Promise.all(recipients.map((r) => nodes[1]!.pending(r, 0, 0, 100)));
        for (const batch of read) {
          assert.equal(batch.length, 30);
          assert.ok(batch.every((m, i) => i === 0 || m.seq > batch[i - 1]!.seq));
        }
        const stats = nodes.map((n) => n.batchStats());
        for (const st of stats) {
          assert.equal(st.writes.items, messages.length);
          assert.ok(st.writes.batches < st.writes.items / 4, `writes were batched (${st.writes.batches} batches)`);
          assert.equal(st.writes.failedBatches, 0);
        }
        assert.ok(stats[1]!.reads.batches < recipients.length);
      } finally {
        await checker.end();
        await Promise.all(nodes.map((n) => n.close()));
      }
    });

    it('a batch that cannot commit fails every write in it with STORE_FAILED and leaves nothing of it', async () => {
      const [url] = await dbs.create(1);
      const s = await open(url!, { statementTimeoutMs: 500 });
      const blocker = new pg.Client({ connectionString: url });
      await blocker.connect();
      try {
        const recipients = Array.from({ length: 5 }, id);
        for (const r of recipients) await s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(3), receivedAt: 1, expiresAt: 99 }, LIMITS);
        // Another transaction holds every one of these mailboxes (their usage rows): the batch
        // and then each write tried alone run into the statement timeout.
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM mailbox_usage WHERE device_id = ANY ($1::bytea[]) FOR UPDATE', [recipients.map((r) => Buffer.from(r))]);
        const results = await Promise.allSettled(
          recipients.flatMap((r) => [1, 2].map(() => s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(3), receivedAt: 1, expiresAt: 99 }, LIMITS))),
        );
        await blocker.query('ROLLBACK');
        for (const r of results) {
          assert.equal(r.status, 'rejected');
          assert.ok(isCode('STORE_FAILED')(r.reason), String(r.reason));
        }
        for (const r of recipients) {
          assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 1, bytes: 3 });
          assert.equal((await s.pending(r, 0, 0, 10)).length, 1);
        }
        assert.equal(s.batchStats().writes.failedBatches, 1);
        // The store goes on: the next batch commits.
        assert.equal(await s.enqueue({ recipientDeviceId: recipients[0]!, messageId: id(), envelope: new Uint8Array(3), receivedAt: 1, expiresAt: 99 }, LIMITS), 'stored');
      } finally {
        await blocker.end();
        await s.close();
      }
    });

    it('a node killed while batches commit lost no message it had answered', async () => {
      const [url] = await dbs.create(1);
      const child = spawn(process.execPath, [fileURLToPath(new URL('./helpers/enqueue-until-killed.js', import.meta.url)), url!], { stdio: ['ignore', 'pipe', 'inherit'] });
      const answered: string[] = [];
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`child exited early (${String(code)})`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line === 'ready') return;
          answered.push(line);
          // Well into the run, with 64 writes always in flight: kill it mid-batch.
          if (answered.length === 2000) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await exited;
      const stored = new Set((await dbs.sql<{ id: Buffer }>(url!, 'SELECT message_id AS id FROM messages')).map((r) => r.id.toString('hex')));
      const missing = answered.filter((m) => !stored.has(m));
      assert.deepStrictEqual(missing, []);
      assert.ok(answered.length >= 2000);
    });

    it('close lets accepted mailbox writes commit before the connections go', async () => {
      const [url] = await dbs.create(1);
      const s = await open(url!);
      const r = id();
      const writes = Array.from({ length: 20 }, () => s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(4), receivedAt: 1, expiresAt: 99 }, LIMITS));
      await s.close();
      assert.ok((await Promise.all(writes)).every((x) => x === 'stored'));
      await assert.rejects(s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: new Uint8Array(4), receivedAt: 1, expiresAt: 99 }, LIMITS), isCode('STORE_CLOSED'));
      const again = await open(url!);
      assert.deepStrictEqual(await again.mailboxUsage(r), { messages: 20, bytes: 80 });
      await again.close();
    });

    it('ping answers for every shard, and rejects after close', async () => {
      const s: PostgresRelayStore = await open(threeShards);
      assert.equal(s.shards.length, 3);
      await s.ping();
      await s.close();
      await assert.rejects(s.ping(), isCode('STORE_CLOSED'));
    });
  });
}
