#!/usr/bin/env node
// CPU per message of the PostgreSQL store: `workers` mailboxes, each looping enqueue -> pending ->
// ack of a 256-byte envelope for `seconds`, on a throwaway database (PIGEON_TEST_POSTGRES_URL).
// Prints round trips/s and the CPU time per round trip spent in this process (the relay's share)
// and in the PostgreSQL server processes (read from /proc, so Linux and a local server only).
// CPU per message is steadier than throughput on a shared machine. To compare two builds, point
// the first argument at another build's packages/relay directory:
//   node packages/relay/scripts/store-cpu-bench.mjs [relay-dir=.] [workers=128] [seconds=4]
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TestDatabases } from '../dist/test/postgres-test-db.js';

const relayDir = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
const workers = Number(process.argv[3] ?? 128);
const seconds = Number(process.argv[4] ?? 4);
const { openPostgresStore } = await import(pathToFileURL(`${relayDir}/dist/src/store/postgres-store.js`).href);
const LIMITS = { maxMessages: 10_000, maxBytes: 64 << 20 };
const ENVELOPE = new Uint8Array(randomBytes(256));
const TICK_MS = 10; // USER_HZ = 100

function postgresCpuMs() {
  let ms = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    } catch {
      // the process ended meanwhile
    }
  }
  return ms;
}

const dbs = new TestDatabases();
const [url] = await dbs.create(1);
const store = await openPostgresStore({ url, poolSize: 10 });
try {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const device = new Uint8Array(randomBytes(16));
      while (performance.now() < deadline) {
        const messageId = new Uint8Array(randomBytes(16));
        const now = Date.now();
        if ((await store.enqueue({ recipientDeviceId: device, messageId, envelope: ENVELOPE, receivedAt: now, expiresAt: now + 60_000 }, LIMITS)) !== 'stored') throw new Error('not stored');
        if ((await store.pending(device, 0, now, 10)).length !== 1) throw new Error('pending');
        if ((await store.ack(device, [messageId])) !== 1) throw new Error('ack');
        done++;
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pgMs = postgresCpuMs() - pg0;
  const us = (ms) => ((ms * 1000) / done).toFixed(0);
  console.log(`${relayDir} workers=${workers}: ${Math.round(done / wallS)} round trips/s; CPU per round trip: relay ${us((cpu.user + cpu.system) / 1000)} µs, PostgreSQL ${us(pgMs)} µs`);
} finally {
  await store.close();
  await dbs.dropAll();
}
