/** The relay's blob endpoints (docs/relay-api.md, "Blobs"). */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { BLOB_AUTH_SCHEME, BLOB_CREATE_NONCE_BYTES, MAX_BLOB_BYTES, MAX_BLOB_CLOCK_SKEW_MS, blobCreateMessage, type CreateUploadReply } from '@pigeon/api';
import { toBase64Url } from '@pigeon/crypto';
import { BLOB_DIR_NAME } from '../src/blobs/host.js';
import { LATEST_BLOB_SCHEMA_VERSION } from '../src/blobs/sqlite-blob-migrations.js';
import { migrateBlobSqlite, openSqliteBlobStore } from '../src/blobs/sqlite-blob-store.js';
import { parseRange } from '../src/blobs/range.js';
import { DEFAULT_BLOB_LIMITS, resolveBlobLimits } from '../src/blobs/options.js';
import { RelayServerError } from '../src/errors.js';
import { hex, registered, startTestRelay, type TestRelay } from './helpers/harness.js';
import { postgresUnreachable, TestDatabases } from './postgres-test-db.js';
import { crypto, newDevice, type TestDevice } from './helpers/identity.js';

let clockNow = Date.now();
const clock = { now: () => clockNow };

async function authHeader(device: TestDevice, size: number, opts: { timestamp?: number; nonce?: Uint8Array; badSig?: boolean } = {}): Promise<string> {
  const timestamp = opts.timestamp ?? clock.now();
  const nonce = opts.nonce ?? new Uint8Array(randomBytes(BLOB_CREATE_NONCE_BYTES));
  const sig = await crypto.ed25519Sign(device.keys.signing.secretKey, blobCreateMessage(device.deviceId, timestamp, nonce, size));
  if (opts.badSig) sig[0]! ^= 1;
  return `${BLOB_AUTH_SCHEME} ${hex(device.deviceId)}.${timestamp}.${toBase64Url(nonce)}.${toBase64Url(sig)}`;
}

interface Ctx {
  relay: TestRelay;
  base: string;
  origin: string;
  /** Ids (hex) of the blobs whose bytes or record the backend still holds. */
  stored(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Where a relay keeps blobs: files + SQLite (one node), or PostgreSQL (a cluster, any node serves any blob). */
interface Backend {
  readonly name: string;
  /** Why it cannot run here, or undefined. */
  readonly skip: string | undefined;
  start(limits: Parameters<typeof resolveBlobLimits>[0]): Promise<Ctx>;
}

async function create(ctx: Ctx, device: TestDevice, size: number, authorization?: string): Promise<Response> {
  return fetch(`${ctx.base}/uploads`, {
    method: 'POST',
    headers: { authorization: authorization ?? (await authHeader(device, size)), 'content-type': 'application/json' },
    body: JSON.stringify({ size }),
  });
}

async function created(ctx: Ctx, device: TestDevice, size: number): Promise<CreateUploadReply & { url: string }> {
  const res = await create(ctx, device, size);
  assert.equal(res.status, 201, res.headers.get('pigeon-error') ?? '');
  const reply = (await res.json()) as CreateUploadReply;
  return { ...reply, url: ctx.origin + reply.uploadPath };
}

function patch(url: string, offset: number, body: Uint8Array): Promise<Response> {
  return fetch(url, { method: 'PATCH', headers: { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body });
}

async function finalize(url: string, bytes: Uint8Array | string): Promise<Response> {
  const sha256 = typeof bytes === 'string' ? bytes : createHash('sha256').update(bytes).digest('hex');
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sha256 }) });
}

async function uploaded(ctx: Ctx, device: TestDevice, bytes: Uint8Array): Promise<CreateUploadReply & { url: string; downloadUrl: string }> {
  const up = await created(ctx, device, bytes.length);
  assert.equal((await patch(up.url, 0, bytes)).status, 204);
  const fin = await finalize(up.url, bytes);
  assert.equal(fin.status, 200, fin.headers.get('pigeon-error') ?? '');
  return { ...up, downloadUrl: ctx.origin + up.downloadPath };
}

const code = (res: Response) => res.headers.get('pigeon-error');

function ctxOf(relay: TestRelay, stored: () => Promise<string[]>, cleanup: () => Promise<void> | void): Ctx {
  assert.ok(relay.blobUrl);
  return {
    relay,
    base: relay.blobUrl,
    origin: new URL(relay.blobUrl).origin,
    stored,
    async stop() {
      await relay.relay.stop();
      await cleanup();
    },
  };
}

const unreachable = await postgresUnreachable();
const dbs = new TestDatabases();
after(() => dbs.dropAll());

const BACKENDS: Backend[] = [
  {
    name: 'files and SQLite',
    skip: undefined,
    async start(limits) {
      const dataDir = mkdtempSync(join(tmpdir(), 'pigeon-blob-test-'));
      const relay = await startTestRelay({ dataDir, clock, durability: 'normal', blobs: { limits } });
      const dir = join(dataDir, BLOB_DIR_NAME);
      const stored = async () => (existsSync(dir) ? readdirSync(dir).map((n) => n.replace(/\.blob$/, '')) : []);
      return ctxOf(relay, stored, () => rmSync(dataDir, { recursive: true, force: true }));
    },
  },
  {
    name: 'PostgreSQL',
    skip: unreachable,
    async start(limits) {
      const [url] = await dbs.create(1);
      const relay = await startTestRelay({ storeUrl: url!, clock, blobs: { limits } });
      const stored = async () =>
        (await dbs.sql<{ id: string }>(url!, "SELECT encode(blob_id, 'hex') AS id FROM blobs UNION SELECT encode(blob_id, 'hex') FROM blob_chunks")).map((r) => r.id);
      return ctxOf(relay, stored, () => undefined);
    },
  },
];


for (const backend of BACKENDS) describe(`blob endpoints (${backend.name})`, { skip: backend.skip }, () => {
  let ctx: Ctx;
  let device: TestDevice;
  before(async () => {
    ctx = await backend.start({ maxConcurrentUploadsPerAccount: 2, quotaBytesPerAccount: 1_000_000 });
    const s = await registered(ctx.relay.url);
    device = s.device;
    s.client.close();
  });
  after(() => ctx?.stop());

  it('lives under the WebSocket path; the rest of the site is unchanged', async () => {
    assert.equal(ctx.base, ctx.relay.url.replace('ws:', 'http:') + '/blobs');
    const outside = await fetch(`${ctx.origin}/blobs/uploads`, { method: 'GET' });
    assert.equal(outside.status, 404);
    assert.match(outside.headers.get('content-type') ?? '', /text\/html/);
    const inside = await fetch(`${ctx.base}/nothing-here`);
    assert.equal(inside.status, 404);
    assert.equal(code(inside), 'NOT_FOUND');
  });

  it('refuses creates without a valid device signature (no free storage for strangers)', async () => {
    const noAuth = await fetch(`${ctx.base}/uploads`, { method: 'POST', body: JSON.stringify({ size: 10 }) });
    assert.equal(noAuth.status, 401);
    assert.equal(code(noAuth), 'UNAUTHORIZED');
    assert.equal(code(await create(ctx, device, 10, await authHeader(device, 10, { badSig: true }))), 'UNAUTHORIZED');
    // signed for another size
    assert.equal(code(await create(ctx, device, 11, await authHeader(device, 10))), 'UNAUTHORIZED');
    // a device the relay does not know
    const stranger = await newDevice();
    assert.equal(code(await create(ctx, stranger, 10)), 'UNAUTHORIZED');
    // stale timestamp
    assert.equal(code(await create(ctx, device, 10, await authHeader(device, 10, { timestamp: clock.now() - MAX_BLOB_CLOCK_SKEW_MS - 1000 }))), 'UNAUTHORIZED');
    // replay of an accepted request
    const header = await authHeader(device, 10);
    const first = await create(ctx, device, 10, header);
    assert.equal(first.status, 201);
    const up = (await first.json()) as CreateUploadReply;
    assert.equal(code(await create(ctx, device, 10, header)), 'UNAUTHORIZED');
    assert.equal((await fetch(ctx.origin + up.uploadPath, { method: 'DELETE' })).status, 204);
  });

  it('uploads in pieces, verifies the digest, serves ranges', async () => {
    const bytes = new Uint8Array(randomBytes(300_000));
    const up = await created(ctx, device, bytes.length);
    let head = await fetch(up.url, { method: 'HEAD' });
    assert.equal(head.headers.get('upload-offset'), '0');
    assert.equal(head.headers.get('upload-length'), String(bytes.length));
    const r1 = await patch(up.url, 0, bytes.subarray(0, 100_000));
    assert.equal(r1.status, 204);
    assert.equal(r1.headers.get('upload-offset'), '100000');
    // wrong offset: told where to continue
    const wrong = await patch(up.url, 50_000, bytes.subarray(50_000, 60_000));
    assert.equal(wrong.status, 409);
    assert.equal(code(wrong), 'OFFSET_MISMATCH');
    assert.equal(wrong.headers.get('upload-offset'), '100000');
    // past the declared size
    assert.equal(code(await patch(up.url, 100_000, new Uint8Array(200_001))), 'TOO_LARGE');
    // not yet complete
    assert.equal(code(await finalize(up.url, bytes)), 'INCOMPLETE');
    // not downloadable before finalize
    assert.equal((await fetch(ctx.origin + up.downloadPath)).status, 404);
    assert.equal((await patch(up.url, 100_000, bytes.subarray(100_000))).status, 204);
    head = await fetch(up.url, { method: 'HEAD' });
    assert.equal(head.headers.get('upload-offset'), String(bytes.length));
    const fin = await finalize(up.url, bytes);
    assert.equal(fin.status, 200);
    const reply = (await fin.json()) as { sha256: string; size: number };
    assert.equal(reply.size, bytes.length);
    assert.equal(reply.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(code(await patch(up.url, bytes.length, new Uint8Array(0))), 'ALREADY_FINALIZED');

    const url = ctx.origin + up.downloadPath;
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), bytes);
    // the blob in several ranged requests
    const parts: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 70_000) {
      const end = Math.min(bytes.length, at + 70_000) - 1;
      const res = await fetch(url, { headers: { range: `bytes=${at}-${end}` } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes ${at}-${end}/${bytes.length}`);
      parts.push(new Uint8Array(await res.arrayBuffer()));
    }
    assert.deepEqual(Buffer.concat(parts), Buffer.from(bytes));
    const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), bytes.subarray(bytes.length - 10));
    assert.equal((await fetch(url, { headers: { range: `bytes=${bytes.length}-` } })).status, 416);
    assert.equal(code(await fetch(url, { headers: { range: 'bytes=0-1,5-6' } })), 'RANGE_NOT_SATISFIABLE');
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 400);
    assert.equal((await fetch(up.url, { method: 'DELETE' })).status, 204);
  });

  it('deletes an upload whose digest does not match', async () => {
    const bytes = new Uint8Array(randomBytes(1000));
    const up = await created(ctx, device, bytes.length);
    assert.equal((await patch(up.url, 0, bytes)).status, 204);
    const fin = await finalize(up.url, '00'.repeat(32));
    assert.equal(fin.status, 422);
    assert.equal(code(fin), 'DIGEST_MISMATCH');
    assert.equal(code(await fetch(up.url, { method: 'HEAD' })), 'NOT_FOUND');
    assert.equal((await ctx.stored()).includes(up.blobId), false);
  });

  it('commits what arrived before a connection dropped, and resumes from there', async () => {
    const bytes = new Uint8Array(randomBytes(200_000));
    const up = await created(ctx, device, bytes.length);
    const url = new URL(up.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PATCH ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nupload-offset: 0\r\ncontent-length: ${bytes.length}\r\n\r\n`);
    await new Promise<void>((resolve) => socket.write(bytes.subarray(0, 120_000), () => resolve()));
    socket.destroy();
    // The relay notices the drop on its own; poll its committed length (a deadline, not a count of
    // polls: on a loaded machine the relay may take a while to see the drop).
    let offset = 0;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && offset !== 120_000; ) {
      await new Promise((r) => setTimeout(r, 10));
      offset = Number((await fetch(up.url, { method: 'HEAD' })).headers.get('upload-offset'));
    }
    assert.equal(offset, 120_000);
    assert.equal((await patch(up.url, offset, bytes.subarray(offset))).status, 204);
    assert.equal((await finalize(up.url, bytes)).status, 200);
    const got = new Uint8Array(await (await fetch(ctx.origin + up.downloadPath)).arrayBuffer());
    assert.deepEqual(got, bytes);
    assert.equal((await fetch(up.url, { method: 'DELETE' })).status, 204);
  });

  it('a refused PATCH with a large body is answered, and the upload goes on', async () => {
    const roomy = await backend.start({ quotaBytesPerAccount: 64 * 1024 * 1024 });
    try {
      const s = await registered(roomy.relay.url);
      s.client.close();
      const bytes = new Uint8Array(randomBytes(6 * 1024 * 1024)); // beyond the body queue's 4 MiB
      const up = await created(roomy, s.device, bytes.length);
      const wrong = await patch(up.url, 1, bytes.subarray(1));
      assert.equal(wrong.status, 409);
      assert.equal(code(wrong), 'OFFSET_MISMATCH');
      assert.equal((await patch(up.url, 0, bytes)).status, 204);
      assert.equal((await finalize(up.url, bytes)).status, 200);
      assert.deepEqual(new Uint8Array(await (await fetch(roomy.origin + up.downloadPath)).arrayBuffer()), bytes);
    } finally {
      await roomy.stop();
    }
  });

  it('limits unfinished uploads and bytes per account, and the blob size', async () => {
    const a = await created(ctx, device, 10);
    const b = await created(ctx, device, 10);
    const third = await create(ctx, device, 10);
    assert.equal(third.status, 429);
    assert.equal(code(third), 'TOO_MANY_UPLOADS');
    await fetch(a.url, { method: 'DELETE' });
    await fetch(b.url, { method: 'DELETE' });
    const big = await created(ctx, device, 600_000);
    const over = await create(ctx, device, 500_000);
    assert.equal(over.status, 507);
    assert.equal(code(over), 'QUOTA_EXCEEDED');
    await fetch(big.url, { method: 'DELETE' });
    assert.equal((await create(ctx, device, 500_000)).status, 201);
    assert.equal(code(await create(ctx, device, MAX_BLOB_BYTES + 1)), 'TOO_LARGE');
  });

  it('lets only the uploader delete (the upload URL is the capability)', async () => {
    const other = await registered(ctx.relay.url);
    other.client.close();
    const up = await uploaded(ctx, other.device, new Uint8Array(randomBytes(2000)));
    assert.equal((await fetch(up.downloadUrl)).status, 200);
    assert.equal(code(await fetch(up.url.slice(0, -3) + 'AAA', { method: 'DELETE' })), 'NOT_FOUND');
    assert.equal((await fetch(up.url, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(up.downloadUrl)).status, 404);
    assert.equal((await ctx.stored()).includes(up.blobId), false);
  });
});

for (const backend of BACKENDS) describe(`blob TTL (${backend.name})`, { skip: backend.skip }, () => {
  it('deletes finished blobs after blobTtlMs and unfinished uploads after uploadTtlMs', async () => {
    const ctx = await backend.start({ blobTtlMs: 60_000, uploadTtlMs: 10_000 });
    try {
      const s = await registered(ctx.relay.url);
      s.client.close();
      const done = await uploaded(ctx, s.device, new Uint8Array(randomBytes(5000)));
      const open = await created(ctx, s.device, 100);
      assert.equal((await patch(open.url, 0, new Uint8Array(50))).status, 204);
      assert.deepEqual((await ctx.stored()).sort(), [done.blobId, open.blobId].sort());
      clockNow += 10_001;
      assert.equal(code(await fetch(open.url, { method: 'HEAD' })), 'NOT_FOUND');
      assert.equal(await ctx.relay.relay.sweepBlobs(), 1);
      assert.equal((await fetch(done.downloadUrl)).status, 200);
      clockNow += 60_000;
      assert.equal((await fetch(done.downloadUrl)).status, 404);
      assert.equal(await ctx.relay.relay.sweepBlobs(), 1);
      assert.deepEqual(await ctx.stored(), []);
    } finally {
      await ctx.stop();
    }
  });
});

describe('blobs switched off', () => {
  it('can be turned off: the path is then an ordinary 404 page', async () => {
    const relay = await startTestRelay({ blobs: false });
    try {
      assert.equal(relay.blobUrl, undefined);
      const res = await fetch(relay.url.replace('ws:', 'http:') + '/blobs/uploads', { method: 'POST', body: '{}' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('pigeon-error'), null);
    } finally {
      await relay.relay.stop();
    }
  });
});

describe('blob metadata store', () => {
  it('migrates from an empty database and refuses a newer schema', () => {
    const db = new Database(':memory:');
    migrateBlobSqlite(db);
    assert.equal(db.pragma('user_version', { simple: true }), LATEST_BLOB_SCHEMA_VERSION);
    db.pragma(`user_version = ${LATEST_BLOB_SCHEMA_VERSION + 1}`);
    assert.throws(() => migrateBlobSqlite(db), (e: unknown) => e instanceof RelayServerError && e.code === 'SCHEMA_TOO_NEW');
    db.close();
  });

  it('checks quota and concurrency atomically', async () => {
    const store = openSqliteBlobStore();
    const account = new Uint8Array(16);
    const rec = (n: number, size: number) => ({
      blobId: new Uint8Array(16).fill(n),
      uploadHash: new Uint8Array(32).fill(n),
      accountId: account,
      size,
      committed: 0,
      state: 'uploading' as const,
      sha256: null,
      createdAt: 0,
      expiresAt: 100,
    });
    const quota = { maxConcurrentUploads: 2, quotaBytes: 100 };
    assert.equal(await store.createUpload(rec(1, 60), quota), 'created');
    assert.equal(await store.createUpload(rec(2, 50), quota), 'quota_exceeded');
    assert.equal(await store.createUpload(rec(3, 40), quota), 'created');
    assert.equal(await store.createUpload(rec(4, 0), quota), 'too_many_uploads');
    await store.complete(rec(1, 60).blobId, new Uint8Array(32), 200);
    assert.deepEqual(await store.usage(account), { uploads: 1, bytes: 100 });
    assert.equal((await store.expired(150, 10)).length, 1);
    await store.close();
  });

  it('validates limits', () => {
    assert.throws(() => resolveBlobLimits({ maxBlobBytes: MAX_BLOB_BYTES + 1 }), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    assert.throws(() => resolveBlobLimits({ quotaBytesPerAccount: 0 }), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    assert.equal(resolveBlobLimits({}).maxBlobBytes, DEFAULT_BLOB_LIMITS.maxBlobBytes);
  });
});

describe('Range parsing', () => {
  it('accepts one range, clamps the end, refuses the rest', () => {
    assert.equal(parseRange(undefined, 10), undefined);
    assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=5-100', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    for (const bad of ['bytes=10-', 'bytes=4-2', 'bytes=0-1,3-4', 'items=0-1', 'bytes=-', 'bytes=-0', 'bytes=1e3-']) {
      assert.equal(parseRange(bad, 10), 'unsatisfiable', bad);
    }
  });
});
