import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Censor } from '../src/censor.js';
import { ManualClock } from '../src/clock.js';
import { startTestServer } from '../src/test-server.js';
import { sniFilter } from '../src/rules/sni-filter.js';
import { buildChromiumLikeHello } from './helpers/client-hello-builder.js';
import { advance, codeOf, collect, settleIo, tlsOver, waitUntil } from './helpers/net.js';

test('sniFilter reset: a blocked SNI gets ECONNRESET, others pass; residual blocks the pair until it expires', async () => {
  const clock = new ManualClock();
  const server = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor({ clock, rules: [sniFilter({ names: ['blocked.lab.test'], residualMs: 120_000 })] });
  const dial = (timeoutMs = 1_000) => censor.dialer.dial({ host: '127.0.0.1', port: server.port, timeoutMs });
  try {
    (await tlsOver(await dial(), 'fine.lab.test')).destroy();
    assert.equal(await codeOf(tlsOver(await dial(), 'blocked.lab.test')), 'ECONNRESET', censor.explain());
    // Residual: the same client/server pair is blocked whatever the SNI.
    const residual = codeOf(dial());
    await advance(clock, 1_000);
    assert.equal(await residual, 'ETIMEDOUT');
    // Another client is not affected.
    (await tlsOver(await censor.dialerFor('127.0.0.9').dial({ host: '127.0.0.1', port: server.port }), 'fine.lab.test')).destroy();
    await advance(clock, 120_000);
    (await tlsOver(await dial(), 'fine.lab.test')).destroy();
    assert.deepEqual(
      censor.log.map((e) => e.action),
      ['reset', 'hang'],
      censor.explain(),
    );
    assert.match(censor.explain(), /sniFilter reset flow#2 .* sni=blocked\.lab\.test: SNI blocked\.lab\.test is blocked/);
  } finally {
    await censor.close();
    await server.close();
  }
});

test('sniFilter pass-then-drop: exactly passPackets packets pass, then both directions go silent', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [sniFilter({ names: ['*.lab.test'], mode: 'pass-then-drop', passPackets: 6 })] });
  try {
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(s);
    const hello = buildChromiumLikeHello({ sni: 'x.lab.test' }); // 2 segments at MSS 1448
    s.write(hello);
    await waitUntil(() => got.bytes() === hello.length, 'the echo of the ClientHello (packets 3-4)');
    s.write('a'); // packet 5, echoed as packet 6
    await waitUntil(() => got.bytes() === hello.length + 1, 'packets 5 and 6');
    s.write('b'); // packet 7: dropped
    await censor.waitFor((e) => e.action === 'drop');
    await settleIo();
    assert.equal(got.bytes(), hello.length + 1);
    const flow = censor.flows()[0];
    assert.equal((flow?.packetsToServer ?? 0) + (flow?.packetsToClient ?? 0), 6);
    assert.deepEqual(flow?.dropping, { toServer: true, toClient: true });
    assert.equal(got.error(), undefined, 'silent');
    s.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('sniFilter pass-then-drop over real TLS: the connection stalls once data flows', async () => {
  const server = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor({ rules: [sniFilter({ names: ['x.lab.test'], mode: 'pass-then-drop', passPackets: 5 })] });
  try {
    const raw = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const t = tlsOver(raw, 'x.lab.test');
    t.catch(() => undefined);
    // Keep talking (if the handshake finished) until the censor drops the flow.
    void t.then((tls) => {
      const timer = setInterval(() => (tls.destroyed ? clearInterval(timer) : tls.write('ping')), 10);
      tls.on('close', () => clearInterval(timer));
    });
    await censor.waitFor((e) => e.action === 'drop' && e.rule === 'sniFilter');
    raw.destroy();
    (await t.catch(() => undefined))?.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('sniFilter drop: nothing after the ClientHello, and no error either (silent)', async () => {
  const server = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor({ rules: [sniFilter({ names: ['x.lab.test'], mode: 'drop' })] });
  try {
    const raw = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(raw);
    tlsOver(raw, 'x.lab.test').catch(() => undefined);
    await censor.waitFor((e) => e.action === 'drop');
    await settleIo();
    assert.equal(got.bytes(), 0);
    assert.equal(got.error(), undefined);
    assert.equal(censor.flows()[0]?.bytesToServer, 0, 'the ClientHello itself was dropped');
    raw.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('sniFilter reassembles a ClientHello split across writes and TLS records', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [sniFilter({ names: ['split.example'], residualMs: 0 })] });
  try {
    for (const recordSize of [16_384, 200]) {
      const hello = buildChromiumLikeHello({ sni: 'split.example', recordSize });
      const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
      const got = collect(s);
      // three writes: 3 bytes, then the middle, then the rest (the DPI must wait for all of it)
      s.write(hello.subarray(0, 3));
      s.write(hello.subarray(3, 700));
      await settleIo();
      assert.equal(got.error(), undefined, 'not decided before the SNI arrived');
      s.write(hello.subarray(700));
      await waitUntil(() => got.error() !== undefined, 'reset after the full ClientHello');
      assert.equal(got.error()?.code, 'ECONNRESET');
    }
    // the same name in a hello without that SNI passes: name is read, not guessed
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(s);
    const other = buildChromiumLikeHello({ sni: 'fine.example' });
    s.write(other);
    await waitUntil(() => got.bytes() === other.length, 'echo of an allowed hello');
    s.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('sniFilter switched on mid-conversation resets the open flow with that SNI', async () => {
  const server = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor();
  try {
    const t = await tlsOver(await censor.dialer.dial({ host: '127.0.0.1', port: server.port }), 'relay.lab.test');
    const got = collect(t);
    t.write('before');
    await waitUntil(() => got.bytes() === 6, 'echo before');
    censor.set([sniFilter({ names: ['relay.lab.test'] })]);
    await waitUntil(() => got.error() !== undefined, 'reset');
    assert.equal(got.error()?.code, 'ECONNRESET');
    assert.match(censor.log[0]?.reason ?? '', /mid-connection/);
  } finally {
    await censor.close();
    await server.close();
  }
});
