import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { DeliverFrame } from '@pigeon/api';
import { parseRelayArgs } from '../src/args.js';
import { RelayServerError } from '../src/errors.js';
import { LATEST_SCHEMA_VERSION } from '../src/store/sqlite-migrations.js';
import { SQLITE_FILE_NAME } from '../src/store/sqlite-store.js';
import { openWorkerSqliteStore, WorkerSqliteStore } from '../src/store/sqlite-worker-store.js';
import { TestClient } from './helpers/client.js';
import { assertOk, hex, randomId, randomToken, registered, sendTo, setTokens, startTestRelay } from './helpers/harness.js';
import { runStoreConformance } from './store-conformance.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pigeon-worker-store-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

runStoreConformance('sqlite on a worker thread, in memory', () => openWorkerSqliteStore());
runStoreConformance('sqlite on a worker thread, file (FULL)', () => openWorkerSqliteStore({ dataDir: tempDir() }));

const LIMITS = { maxMessages: 10_000, maxBytes: 1 << 24 };
const msg = (recipient: Uint8Array, i: number) => ({
  recipientDeviceId: recipient,
  messageId: new Uint8Array(16).fill(i & 0xff).map((b, j) => (j === 0 ? i >> 8 : b)),
  envelope: new Uint8Array([i & 0xff]),
  receivedAt: 1,
  expiresAt: 1e15,
});

describe('sqlite store on a worker thread', () => {
  it('resolves enqueues in commit order across batches sent in different turns', async () => {
    const s = await openWorkerSqliteStore({ dataDir: tempDir() });
    assert.equal(s.resolvesInCommitOrder, true);
    const recipient = new Uint8Array(16).fill(7);
    const resolved: number[] = [];
    const writes: Promise<unknown>[] = [];
    for (let turn = 0; turn < 20; turn++) {
      for (let k = 0; k < 10; k++) {
        const i = turn * 10 + k;
        writes.push(s.enqueue(msg(recipient, i), LIMITS).then(() => resolved.push(i)));
        // A read in the same batch must not reorder the writes around it.
        if (k === 5) writes.push(s.mailboxUsage(recipient));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    assert.deepStrictEqual(resolved, [...resolved].sort((a, b) => a - b));
    const stored = await s.pending(recipient, 0, 0, 1000);
    assert.deepStrictEqual(stored.map((m) => m.envelope[0]), resolved.map((i) => i & 0xff));
    await s.close();
  });

  it('re-throws typed errors: SCHEMA_TOO_NEW at open, STORE_CLOSED after close', async () => {
    const dir = tempDir();
    const db = new Database(join(dir, SQLITE_FILE_NAME));
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    // Repeated: the worker's end once raced its open_failed message and surfaced an untyped clone.
    for (let i = 0; i < 10; i++) {
      await assert.rejects(openWorkerSqliteStore({ dataDir: dir }), (e: unknown) => e instanceof RelayServerError && e.code === 'SCHEMA_TOO_NEW');
    }

    const s = await openWorkerSqliteStore();
    await s.close();
    await assert.rejects(s.getDevice(new Uint8Array(16)), (e: unknown) => e instanceof RelayServerError && e.code === 'STORE_CLOSED');
  });

  it('close() commits the writes issued just before it', async () => {
    const dir = tempDir();
    const s = await openWorkerSqliteStore({ dataDir: dir });
    const recipient = new Uint8Array(16).fill(3);
    const pending = [0, 1, 2].map((i) => s.enqueue(msg(recipient, i), LIMITS));
    await s.close();
    assert.deepStrictEqual(await Promise.all(pending), ['stored', 'stored', 'stored']);
    const again = await openWorkerSqliteStore({ dataDir: dir });
    assert.equal((await again.pending(recipient, 0, 0, 10)).length, 3);
    await again.close();
  });

  it('is chosen by --store-thread (off by default)', () => {
    assert.equal(parseRelayArgs([]).options.storeThread, undefined);
    assert.equal(parseRelayArgs(['--store-thread']).options.storeThread, true);
  });

  it('a relay started with storeThread delivers messages end to end', async () => {
    const relay = await startTestRelay({ dataDir: tempDir(), storeThread: true });
    try {
      assert.ok(relay.relay.store instanceof WorkerSqliteStore);
      const token = randomToken();
      const bob = await registered(relay.url);
      await setTokens(bob.client, [token]);
      await bob.client.next((f) => f.type === 'queue_empty');
      const sender = await TestClient.connect(relay.url);
      const ids = [randomId(), randomId(), randomId()];
      for (const [i, id] of ids.entries()) assertOk(await sendTo(sender, bob.device, token, new Uint8Array([i]), id));
      const got: DeliverFrame[] = [];
      for (let i = 0; i < ids.length; i++) got.push(await bob.client.nextDeliver());
      assert.deepStrictEqual(got.map((d) => hex(d.messageId)), ids.map(hex));
      assertOk(await bob.client.request({ type: 'ack', id: bob.client.id(), messageIds: ids }));
      assert.deepStrictEqual(await relay.relay.store.mailboxUsage(bob.device.deviceId), { messages: 0, bytes: 0 });
      await sender.close();
      await bob.client.close();
    } finally {
      await relay.relay.stop();
    }
  });
});
