/**
 * The cluster machinery without processes: Prometheus text, the claim rule, two relays in one
 * process over a shared store and a LocalBusHub, the Redis bus against the real Redis, and the
 * new flags.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { parseRelayArgs } from '../src/args.js';
import { ClusterDirectory } from '../src/bus/cluster-directory.js';
import { LocalBusHub } from '../src/bus/local-bus.js';
import { RedisBus } from '../src/bus/redis-bus.js';
import { decodeClaim, encodeClaim, type ClaimOrigin, type RelayBus } from '../src/bus/types.js';
import { RelayServerError } from '../src/errors.js';
import { Counter, Histogram, Registry } from '../src/metrics/registry.js';
import { sampleKeys } from '../src/metrics/queue-depth.js';
import { RelayMetrics } from '../src/metrics/relay-metrics.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { MailboxProbe, RelayStore } from '../src/store/types.js';
import { parseMetrics, waitFor } from './helpers/cluster-nodes.js';
import { authenticated, randomId, randomToken, registered, sendTo, setTokens, startTestRelay, assertOk } from './helpers/harness.js';
import { TestClient } from './helpers/client.js';
import { redisUnreachable, REDIS_URL } from './helpers/services.js';

/** A bus that looks like an up, lossy Redis bus and only records the doorbells it is asked to ring. */
function fakeRedisBus(onRing: (key: string) => void = () => {}): RelayBus {
  return {
    start: async () => undefined,
    watch: async () => true,
    unwatch: () => undefined,
    ringDoorbell: async (key) => {
      onRing(key);
      return true;
    },
    announceClaim: async () => true,
    ping: async () => true,
    status: () => ({ kind: 'redis', up: true, lossy: true }),
    close: async () => undefined,
  };
}

/** Relay metrics whose gauges read zero (for a directory without a relay around it). */
function quietMetrics(): RelayMetrics {
  return new RelayMetrics({
    connections: () => 0,
    authenticatedDevices: () => 0,
    deliveriesInFlight: () => 0,
    busUp: () => 1,
    queueDepthSample: () => ({ messages: 0, maxMessages: 0, devices: 0 }),
    storeBatches: () => undefined,
  });
}

describe('metrics registry', () => {
  it('renders counters and histograms in the Prometheus text format', async () => {
    const r = new Registry();
    const c = r.register(new Counter('x_total', 'an x'));
    const h = r.register(new Histogram('lat_seconds', 'latency', [0.1, 1]));
    c.inc({ result: 'a"b' }, 2);
    h.observe(0.05, { op: 'enqueue' });
    h.observe(0.5, { op: 'enqueue' });
    const text = await r.render();
    assert.match(text, /^# HELP x_total an x\n# TYPE x_total counter\nx_total\{result="a\\"b"\} 2\n/);
    const m = parseMetrics(text);
    assert.equal(m.get('lat_seconds_bucket{op="enqueue",le="0.1"}'), 1);
    assert.equal(m.get('lat_seconds_bucket{op="enqueue",le="1"}'), 2);
    assert.equal(m.get('lat_seconds_bucket{op="enqueue",le="+Inf"}'), 2);
    assert.equal(m.get('lat_seconds_count{op="enqueue"}'), 2);
  });

  it('samples at most the requested number of keys', () => {
    const keys = Array.from({ length: 100 }, (_, i) => String(i));
    const sample = sampleKeys(keys, 10);
    assert.equal(sample.length, 10);
    assert.equal(new Set(sample).size, 10);
    assert.deepStrictEqual(sampleKeys(['a', 'b'], 10), ['a', 'b']);
  });
});

describe('bus claims', () => {
  it('encodes and refuses malformed claims', () => {
    const origin: ClaimOrigin = { nodeId: 'node-1', connectionId: 42 };
    assert.deepStrictEqual(decodeClaim(encodeClaim(origin)), origin);
    for (const bad of ['', 'c:', 'c:a b:1', 'c:node:x', 'x:node:1', `c:${'n'.repeat(65)}:1`]) assert.equal(decodeClaim(bad), undefined);
  });
});

describe('doorbells', () => {
  it('one doorbell per device per loop turn, however many messages were stored for it', async () => {
    const rung: string[] = [];
    const bus = fakeRedisBus((key) => rung.push(key));
    const metrics = quietMetrics();
    const directory = new ClusterDirectory(bus, 'n1', { baseMs: 1000, maxMs: 1000 }, metrics, () => 0);
    for (let i = 0; i < 5; i++) directory.notify('aa');
    directory.notify('bb');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepStrictEqual(rung.sort(), ['aa', 'bb']);
    // A later turn rings again: a doorbell is never swallowed for good.
    directory.notify('aa');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepStrictEqual(rung.sort(), ['aa', 'aa', 'bb']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(metrics.busPublishes.get({ kind: 'doorbell' }), 3);
  });
});

describe('sweeps', () => {
  it('ask the store once which caught-up mailboxes have mail, and read only those', async () => {
    const bus = fakeRedisBus();
    const metrics = quietMetrics();
    const questions: string[][] = [];
    const probe = async (probes: readonly MailboxProbe[]) => {
      const keys = probes.map((p) => Buffer.from(p.deviceId).toString('hex'));
      questions.push(keys);
      return keys.map((k) => k === 'bb');
    };
    let now = 0;
    const directory = new ClusterDirectory(bus, 'n1', { baseMs: 40, maxMs: 40 }, metrics, () => now, probe);
    const reads = new Map<string, number>();
    const connection = (key: string, caughtUp: boolean) => ({
      wake() {},
      replace() {},
      sweep: async () => {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return 0;
      },
      sweepProbe: () => (caughtUp ? { deviceId: Buffer.from(key, 'hex'), afterSeq: 7 } : undefined),
    });
    directory.claim('aa', connection('aa', true));
    directory.claim('bb', connection('bb', true));
    directory.claim('cc', connection('cc', false)); // not caught up: only a read will do
    directory.start();
    try {
      now = 1000; // every entry is due
      await waitFor('one sweep', async () => questions.length >= 1 && reads.has('bb') && reads.has('cc'));
      assert.deepStrictEqual(questions[0], ['aa', 'bb']);
      assert.equal(reads.get('aa'), undefined, 'a mailbox without mail was read');
      assert.equal(reads.get('bb'), 1);
      assert.equal(reads.get('cc'), 1);
    } finally {
      directory.stop();
    }
  });
});

describe('two relays in one process over one store and a LocalBusHub', () => {
  const store = openSqliteStore({});
  const hub = new LocalBusHub();
  const relays = Promise.all([startTestRelay({ store, bus: hub.endpoint(), nodeId: 'a' }), startTestRelay({ store, bus: hub.endpoint(), nodeId: 'b' })]);
  after(async () => {
    for (const r of await relays) await r.relay.stop();
    await store.close();
  });

  it('mail sent through one relay is pushed to a device on the other', async () => {
    const [a, b] = await relays;
    const token = randomToken();
    const bob = await registered(b!.url);
    await setTokens(bob.client, [token]);
    await bob.client.next((f) => f.type === 'queue_empty');
    const sender = await TestClient.connect(a!.url);
    const id = randomId();
    assertOk(await sendTo(sender, bob.device, token, new TextEncoder().encode('hi'), id));
    const d = await bob.client.nextDeliver();
    assert.deepStrictEqual(d.messageId, id);
    assert.ok((parseMetrics(await b!.relay.metricsText()).get('pigeon_relay_bus_doorbells_received_total') ?? 0) >= 1);
    await sender.close();
    await bob.client.close();
  });

  it('a device authenticating on the other relay replaces the first connection', async () => {
    const [a, b] = await relays;
    const bob = await registered(a!.url);
    await bob.client.next((f) => f.type === 'queue_empty');
    await waitFor('the claim echo', async () => (parseMetrics(await a!.relay.metricsText()).get('pigeon_relay_bus_claims_received_total') ?? 0) >= 1);
    const second = await authenticated(b!.url, bob.device);
    assert.equal((await bob.client.closed).code, 4002);
    assert.equal(a!.relay.stats().onlineDevices, 0);
    assert.equal(b!.relay.stats().onlineDevices, 1);
    await second.close();
  });
});

describe('a mailbox read that was answered from before an ack (asynchronous store)', () => {
  it('does not hand the acknowledged message out again', async () => {
    const base = openSqliteStore({});
    let slowReads = false;
    let onSlowRead: (() => void) | undefined;
    // Reads see the mailbox when they are issued and answer 150 ms later, as a busy database may.
    const store = new Proxy(base, {
      get(target, prop) {
        if (prop === 'pending') {
          return (deviceId: Uint8Array, afterSeq: number, now: number, limit: number) => {
            const rows = target.pending(deviceId, afterSeq, now, limit);
            if (!slowReads) return rows;
            onSlowRead?.();
            return rows.then((r) => new Promise((resolve) => setTimeout(() => resolve(r), 150)));
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as RelayStore;
    const hub = new LocalBusHub();
    const a = await startTestRelay({ store, bus: hub.endpoint(), nodeId: 'a' });
    const b = await startTestRelay({ store, bus: hub.endpoint(), nodeId: 'b' });
    try {
      const token = randomToken();
      const bob = await registered(a.url);
      await setTokens(bob.client, [token]);
      await bob.client.next((f) => f.type === 'queue_empty');
      const local = await TestClient.connect(a.url);
      const remote = await TestClient.connect(b.url);
      const first = randomId();
      assertOk(await sendTo(local, bob.device, token, new TextEncoder().encode('one'), first));
      assert.deepStrictEqual((await bob.client.nextDeliver()).messageId, first); // pushed from memory
      slowReads = true;
      const readOut = new Promise<void>((resolve) => (onSlowRead = resolve));
      const second = randomId();
      // Stored through the other relay: a doorbell, and relay a reads the mailbox (first included).
      assertOk(await sendTo(remote, bob.device, token, new TextEncoder().encode('two'), second));
      await readOut;
      assertOk(await bob.client.request({ type: 'ack', id: bob.client.id(), messageIds: [first] }));
      assert.deepStrictEqual((await bob.client.nextDeliver()).messageId, second);
      assert.equal((await bob.client.request({ type: 'ping', id: bob.client.id() })).type, 'pong');
      assert.equal(bob.client.pendingFrames().filter((f) => f.type === 'deliver').length, 0, 'the acknowledged message came again');
      await local.close();
      await remote.close();
      await bob.client.close();
    } finally {
      await a.relay.stop();
      await b.relay.stop();
      await base.close();
    }
  });
});

const redisSkip = await redisUnreachable();

describe('Redis bus (real Redis, a unique channel prefix)', { skip: redisSkip }, () => {
  const prefix = `pigeon-test-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const received: string[] = [];
  const buses: RedisBus[] = [];

  after(async () => {
    for (const b of buses) await b.close();
  });

  it('delivers doorbells and claims only to watchers of the device, in publish order', async () => {
    const x = new RedisBus({ url: REDIS_URL, prefix });
    const y = new RedisBus({ url: REDIS_URL, prefix });
    buses.push(x, y);
    await x.start({ onDoorbell: (k) => received.push(`x doorbell ${k}`), onClaim: (k, o) => received.push(`x claim ${k} ${o.nodeId}:${o.connectionId}`), onUp() {}, onDown() {} });
    await y.start({ onDoorbell: (k) => received.push(`y doorbell ${k}`), onClaim: (k, o) => received.push(`y claim ${k} ${o.nodeId}:${o.connectionId}`), onUp() {}, onDown() {} });
    assert.equal(x.status().up, true);
    assert.equal(await x.ping(2000), true);
    assert.equal(await x.watch('aa'), true);
    assert.equal(await x.ringDoorbell('bb'), true); // nobody watches bb
    assert.equal(await y.announceClaim('aa', { nodeId: 'y', connectionId: 1 }), true);
    assert.equal(await y.ringDoorbell('aa'), true);
    await waitFor('both messages', () => received.length >= 2);
    assert.deepStrictEqual(received, ['x claim aa y:1', 'x doorbell aa']);
    x.unwatch('aa');
    assert.equal(await x.watch('cc'), true);
    await y.ringDoorbell('aa');
    await y.ringDoorbell('cc');
    await waitFor('the cc doorbell', () => received.length >= 3);
    assert.deepStrictEqual(received.slice(2), ['x doorbell cc']);
  });

  it('refuses a bad URL or prefix', () => {
    assert.throws(() => new RedisBus({ url: 'http://x' }), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    assert.throws(() => new RedisBus({ url: REDIS_URL, prefix: 'a b' }), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
  });
});

describe('relay flags for a cluster', () => {
  it('parses --store, --bus, --admin-port and the sweep schedule', () => {
    const { options } = parseRelayArgs([
      '--store', 'postgres://a/db,postgres://b/db', '--bus', 'redis://127.0.0.1:6379', '--bus-prefix', 'p:', '--node-id', 'n1',
      '--bus-sweep-ms', '500', '--bus-sweep-max-ms', '5000', '--admin-port', '0', '--admin-host', '10.0.0.1',
    ]);
    assert.equal(options.storeUrl, 'postgres://a/db,postgres://b/db');
    assert.equal(options.busUrl, 'redis://127.0.0.1:6379');
    assert.equal(options.busPrefix, 'p:');
    assert.equal(options.nodeId, 'n1');
    assert.equal(options.busSweepMs, 500);
    assert.equal(options.busSweepMaxMs, 5000);
    assert.deepStrictEqual(options.admin, { port: 0, host: '10.0.0.1' });
  });

  it('refuses an admin host without a port and a non-integer sweep', () => {
    const bad = (argv: string[]) => assert.throws(() => parseRelayArgs(argv), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    bad(['--admin-host', '127.0.0.1']);
    bad(['--bus-sweep-ms', 'soon']);
  });

  it('refuses a store or bus URL of another kind at start', async () => {
    const { createRelay } = await import('../src/relay.js');
    assert.throws(() => createRelay({ busUrl: 'http://x' }), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    const relay = createRelay({ storeUrl: 'mysql://x' });
    await assert.rejects(relay.start(), (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION');
    await relay.stop();
  });
});
