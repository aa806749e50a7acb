import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Censor } from '../src/censor.js';
import { startTestServer } from '../src/test-server.js';
import { throttle } from '../src/rules/throttle.js';
import { freeze, DEFAULT_FREEZE_BYTES } from '../src/rules/freeze.js';
import { LabError } from '../src/errors.js';
import { collect, settleIo, tlsOver, waitUntil } from './helpers/net.js';

const PAYLOAD = 48 * 1024;

async function echoTime(censor: Censor, port: number, servername?: string): Promise<number> {
  const raw = await censor.dialer.dial({ host: '127.0.0.1', port });
  const s = servername === undefined ? raw : await tlsOver(raw, servername);
  const got = collect(s);
  const start = performance.now();
  s.write(Buffer.alloc(PAYLOAD, 0x61));
  await waitUntil(() => got.bytes() >= PAYLOAD, 'echo of the payload', 30_000);
  const ms = performance.now() - start;
  s.destroy();
  return ms;
}

test('throttle by SNI to 130 kbps: a 48 KB echo takes at least the token-bucket time; off is fast', async () => {
  const server = await startTestServer({ kind: 'echo', tls: true });
  const rule = throttle({ names: ['*.twitter.lab.test'], directions: 'toClient' });
  const censor = new Censor({ rules: [rule] });
  try {
    const slow = await echoTime(censor, server.port, 'abs.twitter.lab.test');
    const flowBytes = PAYLOAD; // TLS adds a little more, which only makes it slower
    const floorMs = ((flowBytes - 14_600) * 8 * 1000) / 130_000; // burst passes at line rate
    assert.ok(slow >= floorMs * 0.95, `throttled echo took ${slow.toFixed(0)} ms, expected >= ${floorMs.toFixed(0)} ms`);
    const kbps = (PAYLOAD * 8) / slow;
    console.log(`throttled: ${PAYLOAD} B in ${slow.toFixed(0)} ms = ${kbps.toFixed(0)} kbps (target 130)`);
    assert.ok(censor.log.some((e) => e.rule === 'throttle' && e.action === 'delay'));
    const fast = await echoTime(censor, server.port, 'other.lab.test');
    assert.ok(fast < floorMs, `unthrottled echo took ${fast.toFixed(0)} ms`);
  } finally {
    await censor.close();
    await server.close();
  }
});

test('throttle by destination, both directions, keeps bytes intact and in order', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [throttle({ destinations: [server.endpoint], rateBps: 1_000_000, burstBytes: 1_000 })] });
  try {
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(s);
    const payload = Buffer.alloc(20_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) & 0xff;
    s.write(payload);
    await waitUntil(() => got.bytes() === payload.length, 'echo');
    assert.ok(got.data().equals(payload));
    s.destroy();
    assert.throws(() => throttle({}), (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION');
    assert.throws(() => throttle({ names: ['a'], rateBps: 0 }), (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION');
  } finally {
    await censor.close();
    await server.close();
  }
});

test('freeze: after 16 KB server->client on one connection the server goes silent; a new connection gets another 16 KB', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [freeze({ destinations: [server.endpoint] })] });
  try {
    for (let round = 0; round < 2; round++) {
      const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
      const got = collect(s);
      s.write(Buffer.alloc(40_000, 0x62));
      await censor.waitFor((e) => e.rule === 'freeze' && e.flowId === round + 1);
      const flow = censor.flows().find((f) => f.id === round + 1);
      assert.ok(flow !== undefined);
      assert.equal(flow.bytesToServer, 40_000, 'client->server still flows');
      assert.ok(flow.bytesToClient <= DEFAULT_FREEZE_BYTES && flow.bytesToClient > DEFAULT_FREEZE_BYTES - 1448, `froze at ${flow.bytesToClient}`);
      await waitUntil(() => got.bytes() === flow.bytesToClient, 'client got what passed');
      s.write('more');
      await settleIo();
      assert.equal(got.bytes(), flow.bytesToClient, 'nothing after the freeze');
      assert.equal(got.error(), undefined, 'silent');
      s.destroy();
    }
  } finally {
    await censor.close();
    await server.close();
  }
});

test('freeze with a configured threshold, and only for flagged destinations', async () => {
  const flagged = await startTestServer({ kind: 'echo' });
  const home = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [freeze({ destinations: [flagged.endpoint], thresholdBytes: 12_000 })] });
  try {
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: home.port });
    const got = collect(s);
    s.write(Buffer.alloc(40_000));
    await waitUntil(() => got.bytes() === 40_000, 'unflagged destination is not frozen');
    s.destroy();
    const f = await censor.dialer.dial({ host: '127.0.0.1', port: flagged.port });
    f.write(Buffer.alloc(40_000));
    await censor.waitFor((e) => e.rule === 'freeze');
    assert.ok((censor.flows().find((x) => x.server.port === flagged.port)?.bytesToClient ?? 0) <= 12_000);
    f.destroy();
    assert.throws(() => freeze({ thresholdBytes: 0 }), (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION');
  } finally {
    await censor.close();
    await flagged.close();
    await home.close();
  }
});
