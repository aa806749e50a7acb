/**
 * Three relay node processes over the real PostgreSQL and Redis (docs/operations.md "Cluster"):
 * nodes that start together migrate once; devices spread over the nodes get every message exactly
 * once, in order per sender; a device has one connection cluster-wide; /metrics and /healthz
 * live on the admin port only; an attachment's upload and download may go through any node.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BLOB_AUTH_SCHEME, BLOB_CREATE_NONCE_BYTES, blobCreateMessage, type CreateUploadReply } from '@pigeon/api';
import { toBase64Url } from '@pigeon/crypto';
import { LATEST_POSTGRES_SCHEMA_VERSION } from '../src/store/postgres-migrations.js';
import { AppDevice, AppSender, DeliveryClock } from './helpers/app-client.js';
import { health, killAllNodes, scrape, waitFor } from './helpers/cluster-nodes.js';
import { TestCluster } from './helpers/cluster-setup.js';
import { authenticated, hex } from './helpers/harness.js';
import { crypto } from './helpers/identity.js';
import { redisUnreachable } from './helpers/services.js';
import { postgresUnreachable, TestDatabases } from './postgres-test-db.js';

const skip = (await postgresUnreachable()) ?? (await redisUnreachable());

describe('cluster: three relay processes on PostgreSQL and Redis', { skip }, () => {
  const dbs = new TestDatabases();
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.start(dbs);
  });
  after(async () => {
    await cluster?.stop().catch(() => undefined);
    killAllNodes();
    await dbs.dropAll();
  });

  it('nodes that start together apply each migration exactly once', async () => {
    const rows = await dbs.sql<{ version: number }>(cluster.databaseUrl, 'SELECT version FROM schema_migrations ORDER BY version');
    assert.deepStrictEqual(
      rows.map((r) => r.version),
      Array.from({ length: LATEST_POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('delivers every message exactly once, in order per sender, to devices spread over the nodes', async () => {
    const targets = await cluster.recipients(6);
    const clock = new DeliveryClock();
    // Recipient i connects to node i mod 3; sender s to node (s + 1) mod 3: most mail crosses nodes.
    const devices = targets.map((t, i) => new AppDevice(t.device, cluster.urls, i, clock));
    for (const d of devices) d.start();
    await waitFor('every recipient online', () => devices.every((d) => d.online));
    const senders = [0, 1, 2].map((s) => new AppSender(s, targets, cluster.urls, s + 1));
    const ROUNDS = 25;
    try {
      await Promise.all(senders.map((s) => s.run(ROUNDS)));
      const expected = Array.from({ length: ROUNDS }, (_, i) => i + 1);
      await waitFor('all messages delivered', () => devices.every((d) => d.total === ROUNDS * senders.length));
      for (const d of devices) {
        for (const s of senders) assert.deepStrictEqual(d.received.get(s.index), expected);
        assert.equal(d.duplicatesOnOneConnection, 0);
        assert.equal(d.duplicatesAcrossConnections, 0);
      }
      // Pushed, not swept: doorbells carried the cross-node mail.
      const doorbells = (await Promise.all(cluster.nodes.map(scrape))).reduce((a, m) => a + (m.get('pigeon_relay_bus_doorbells_received_total') ?? 0), 0);
      assert.ok(doorbells > 0, 'doorbells were received');
    } finally {
      for (const s of senders) s.close();
      await Promise.all(devices.map((d) => d.stop()));
    }
  });

  it('an attachment uploaded through one node is resumed, finalized and downloaded through the others', async () => {
    const [target] = await cluster.recipients(1);
    const device = target!.device;
    const origin = (n: number) => new URL(cluster.nodes[n]!.url.replace(/^ws/, 'http')).origin;
    const blobBase = (n: number) => cluster.nodes[n]!.url.replace(/^ws/, 'http') + '/blobs';
    const bytes = randomBytes(300_000);
    const size = bytes.length;
    const timestamp = Date.now();
    const nonce = randomBytes(BLOB_CREATE_NONCE_BYTES);
    const sig = await crypto.ed25519Sign(device.keys.signing.secretKey, blobCreateMessage(device.deviceId, timestamp, nonce, size));
    const authorization = `${BLOB_AUTH_SCHEME} ${hex(device.deviceId)}.${timestamp}.${toBase64Url(nonce)}.${toBase64Url(sig)}`;
    const createdRes = await fetch(`${blobBase(0)}/uploads`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ size }) });
    assert.equal(createdRes.status, 201, createdRes.headers.get('pigeon-error') ?? '');
    const up = (await createdRes.json()) as CreateUploadReply;
    const patch = (n: number, from: number, to: number) =>
      fetch(origin(n) + up.uploadPath, { method: 'PATCH', headers: { 'upload-offset': String(from), 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(from, to) });
    assert.equal((await patch(1, 0, 100_000)).status, 204);
    assert.equal((await fetch(origin(2) + up.uploadPath, { method: 'HEAD' })).headers.get('upload-offset'), '100000');
    assert.equal((await patch(2, 100_000, size)).status, 204);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const fin = await fetch(origin(0) + up.uploadPath, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sha256 }) });
    assert.equal(fin.status, 200, fin.headers.get('pigeon-error') ?? '');
    const whole = await fetch(origin(1) + up.downloadPath);
    assert.equal(whole.status, 200);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
    const range = await fetch(origin(2) + up.downloadPath, { headers: { range: 'bytes=99990-200009' } });
    assert.equal(range.status, 206);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), bytes.subarray(99_990, 200_010));
    assert.equal((await fetch(origin(1) + up.uploadPath, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(origin(2) + up.downloadPath)).status, 404);
  });

  it('a second connection of a device on another node pushes the first off (REPLACED)', async () => {
    const [target] = await cluster.recipients(1);
    const claims = async () => (await scrape(cluster.nodes[0]!)).get('pigeon_relay_bus_claims_received_total') ?? 0;
    const before = await claims();
    const first = await authenticated(cluster.nodes[0]!.url, target!.device);
    // The first node has seen its own claim come back: it is on the channel before the second one.
    await waitFor('the first connection to be announced', async () => (await claims()) > before);
    const second = await authenticated(cluster.nodes[1]!.url, target!.device);
    const closed = await first.closed;
    assert.equal(closed.code, 4002);
    // The newer connection stays and receives mail sent through the third node.
    const sender = new AppSender(9, [target!], () => [cluster.nodes[2]!.url], 0);
    await sender.run(1);
    sender.close();
    const d = await second.nextDeliver();
    assert.equal(JSON.parse(new TextDecoder().decode(d.envelope)).sender, 9);
    assert.ok(hex(d.messageId).length === 32);
    await second.close();
  });

  it('serves /metrics and /healthz on the admin port, not on the public one', async () => {
    const node = cluster.nodes[0]!;
    const h = await health(node);
    assert.equal(h.status, 200);
    assert.deepStrictEqual({ status: h.body.status, store: h.body.store, bus: h.body.bus }, { status: 'ok', store: 'ok', bus: 'ok' });
    const m = await scrape(node);
    for (const name of [
      'pigeon_relay_connections',
      'pigeon_relay_authenticated_devices',
      'pigeon_relay_bus_up',
      'pigeon_relay_sweeps_total',
      'pigeon_relay_queue_depth_sampled_messages',
    ]) {
      assert.ok(m.has(name), name);
    }
    assert.equal(m.get('pigeon_relay_bus_up'), 1);
    assert.ok([...m.keys()].some((k) => k.startsWith('pigeon_relay_store_operation_seconds_bucket{op="enqueue"')));
    assert.ok((m.get('pigeon_relay_messages_in_total{result="stored"}') ?? 0) > 0);
    // The public port stays an ordinary website.
    const httpUrl = node.url.replace(/^ws/, 'http').replace(/\/pigeon$/, '/');
    for (const path of ['metrics', 'healthz']) {
      const res = await fetch(new URL(path, httpUrl));
      assert.equal(res.status, 404);
      assert.doesNotMatch(await res.text(), /pigeon_relay|"store"/);
    }
  });
});
