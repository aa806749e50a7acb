#!/usr/bin/env node
// Store round trips side by side: enqueue + pending + ack of one 256-byte envelope, repeated,
// against the SQLite store (file, synchronous=FULL) and the PostgreSQL store (1 shard with and
// without group commit, 3 shards; throwaway databases on PIGEON_TEST_POSTGRES_URL).
// Run after `npx tsc -b packages/relay`:
//   node packages/relay/scripts/store-bench.mjs [seconds-per-case=3]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../dist/src/store/sqlite-store.js';
import { openPostgresStore } from '../dist/src/store/postgres-store.js';
import { TestDatabases } from '../dist/test/postgres-test-db.js';

const SECONDS = Number(process.argv[2] ?? 3);
const LIMITS = { maxMessages: 10_000, maxBytes: 64 << 20 };
const ENVELOPE = new Uint8Array(randomBytes(256));

/** `workers` mailboxes, each looping enqueue -> pending -> ack for SECONDS; returns round trips/s. */
async function run(store, workers) {
  const deadline = performance.now() + SECONDS * 1000;
  let done = 0;
  const latencies = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const device = new Uint8Array(randomBytes(16));
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const messageId = new Uint8Array(randomBytes(16));
        const now = Date.now();
        if ((await store.enqueue({ recipientDeviceId: device, messageId, envelope: ENVELOPE, receivedAt: now, expiresAt: now + 60_000 }, LIMITS)) !== 'stored') throw new Error('not stored');
        const got = await store.pending(device, 0, now, 10);
        if (got.length !== 1) throw new Error('pending');
        if ((await store.ack(device, [messageId])) !== 1) throw new Error('ack');
        latencies.push(performance.now() - t0);
        done++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
  return { perSecond: Math.round(done / SECONDS), p50: q(0.5), p99: q(0.99) };
}

const dir = mkdtempSync(join(tmpdir(), 'pigeon-store-bench-'));
const dbs = new TestDatabases();
const results = [];
try {
  const pgOne = await dbs.create(1);
  const pgThree = await dbs.create(3);
  const cases = [
    ['sqlite file (FULL)', () => openSqliteStore({ dataDir: dir })],
    ['postgres 1 shard', () => openPostgresStore({ url: pgOne[0], poolSize: 16 })],
    ['postgres 1 shard, no group commit', () => openPostgresStore({ url: pgOne[0], poolSize: 16, groupCommit: false })],
    ['postgres 3 shards (one server)', () => openPostgresStore({ url: pgThree, poolSize: 8 })],
  ];
  for (const workers of [1, 32, 128]) {
    for (const [name, openStore] of cases) {
      const store = await openStore();
      try {
        results.push({ store: name, concurrentMailboxes: workers, ...(await run(store, workers)) });
      } finally {
        await store.close();
      }
    }
  }
} finally {
  await dbs.dropAll();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`enqueue+pending+ack round trips, ${SECONDS} s per case, 256-byte envelopes`);
console.table(results.map((r) => ({ store: r.store, mailboxes: r.concurrentMailboxes, 'round trips/s': r.perSecond, 'p50 ms': r.p50, 'p99 ms': r.p99 })));
