import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Censor } from '../src/censor.js';
import { ManualClock } from '../src/clock.js';
import { staticResolver } from '../src/real-net.js';
import { startTestServer } from '../src/test-server.js';
import { ipBlock } from '../src/rules/ip-block.js';
import { dnsPoison, DEFAULT_BOGUS_ADDRESS } from '../src/rules/dns-poison.js';
import { connectionRate } from '../src/rules/connection-rate.js';
import { allowlist } from '../src/rules/allowlist.js';
import { advance, collect, codeOf, settleIo, tlsOver, waitUntil } from './helpers/net.js';

test('ipBlock: drop hangs connect until the client timeout; reject refuses; off passes', async () => {
  const clock = new ManualClock();
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ clock });
  try {
    const dial = () => censor.dialer.dial({ host: '127.0.0.1', port: server.port, timeoutMs: 3_000 });
    (await dial()).destroy();
    censor.set([ipBlock({ destinations: ['127.0.0.1'] })]);
    const hung = codeOf(dial());
    await advance(clock, 3_000);
    assert.equal(await hung, 'ETIMEDOUT');
    censor.set([ipBlock({ destinations: [server.endpoint], action: 'reject' })]);
    assert.equal(await codeOf(dial()), 'ECONNREFUSED');
    censor.set([ipBlock({ destinations: ['127.0.0.1:1'] })]);
    (await dial()).destroy();
    assert.deepEqual(
      censor.log.map((e) => [e.rule, e.action]),
      [
        ['ipBlock', 'hang'],
        ['ipBlock', 'reject'],
      ],
      censor.explain(),
    );
  } finally {
    await censor.close();
    await server.close();
  }
});

test('ipBlock switched on mid-conversation: drop silences the flow, reject resets it', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor();
  try {
    const a = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const b = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const gotA = collect(a);
    const gotB = collect(b);
    a.write('one');
    await waitUntil(() => gotA.bytes() === 3, 'echo before the block');
    censor.set([ipBlock({ destinations: [server.endpoint], action: 'drop' })]);
    a.write('two');
    await settleIo();
    assert.equal(gotA.bytes(), 3, 'nothing after the block');
    assert.equal(gotA.error(), undefined, 'a silent drop, no error');
    censor.set([ipBlock({ destinations: [server.endpoint], action: 'reject', name: 'ipReject' })]);
    await waitUntil(() => gotB.error() !== undefined, 'reset of the second flow');
    assert.equal(gotB.error()?.code, 'ECONNRESET');
    a.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('dnsPoison: bogus answer whose connect hangs, NXDOMAIN, other names untouched', async () => {
  const clock = new ManualClock();
  const server = await startTestServer({ kind: 'echo' });
  const upstreamResolver = staticResolver({ 'relay.example': '127.0.0.1', 'cdn.example': '127.0.0.1' });
  const censor = new Censor({ clock, upstreamResolver, rules: [dnsPoison({ names: ['relay.example'] }), dnsPoison({ names: ['*.gone.example'], answer: 'nxdomain', name: 'nx' })] });
  try {
    assert.deepEqual(await censor.resolver.resolve('relay.example'), [DEFAULT_BOGUS_ADDRESS]);
    assert.deepEqual(await censor.resolver.resolve('cdn.example'), ['127.0.0.1']);
    assert.equal(await codeOf(censor.resolver.resolve('a.gone.example')), 'ENOTFOUND');
    const hung = codeOf(censor.dialer.dial({ host: 'relay.example', port: server.port, timeoutMs: 2_000 }));
    await advance(clock, 2_000);
    assert.equal(await hung, 'ETIMEDOUT');
    (await censor.dialer.dial({ host: 'cdn.example', port: server.port })).destroy();
    censor.set([]);
    assert.deepEqual(await censor.resolver.resolve('relay.example'), ['127.0.0.1']);
    assert.ok(censor.log.some((e) => e.action === 'nxdomain' && e.name === 'a.gone.example'), censor.explain());
    assert.ok(censor.log.some((e) => e.rule === 'dnsPoison' && e.action === 'hang' && e.name === 'relay.example'), censor.explain());
  } finally {
    await censor.close();
    await server.close();
  }
});

test('connectionRate: N connects per window pass, the next ones hang for the cooldown', async () => {
  const clock = new ManualClock();
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ clock, rules: [connectionRate({ maxConnections: 3, windowMs: 60_000, cooldownMs: 60_000 })] });
  const dial = () => censor.dialer.dial({ host: '127.0.0.1', port: server.port, timeoutMs: 1_000 });
  try {
    for (let i = 0; i < 3; i++) {
      (await dial()).destroy();
      await advance(clock, 1_000);
    }
    const fourth = codeOf(dial());
    await advance(clock, 1_000);
    assert.equal(await fourth, 'ETIMEDOUT');
    await advance(clock, 50_000); // still cooling down (60 s from the 4th connect)
    const fifth = codeOf(dial());
    await advance(clock, 1_000);
    assert.equal(await fifth, 'ETIMEDOUT');
    await advance(clock, 10_000); // cooldown over
    (await dial()).destroy();
    // another client is counted separately
    (await censor.dialerFor('127.0.0.2').dial({ host: '127.0.0.1', port: server.port, localAddress: undefined })).destroy();
    assert.equal(censor.log.filter((e) => e.action === 'hang').length, 2, censor.explain());
  } finally {
    await censor.close();
    await server.close();
  }
});

test('connectionRate with dropExisting: open connections die during the cooldown', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [connectionRate({ maxConnections: 1, dropExisting: true })] });
  try {
    const first = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(first);
    first.write('x');
    await waitUntil(() => got.bytes() === 1, 'echo');
    const second = censor.dialer.dial({ host: '127.0.0.1', port: server.port, timeoutMs: 200 });
    assert.equal(await codeOf(second), 'ETIMEDOUT');
    first.write('y');
    await settleIo();
    assert.equal(got.bytes(), 1);
    first.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('allowlist: TCP connects anywhere, but the ClientHello to an unlisted destination is dropped', async () => {
  const listed = await startTestServer({ kind: 'echo', tls: true });
  const other = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor({ rules: [allowlist({ allow: [listed.endpoint] })] });
  try {
    const ok = await tlsOver(await censor.dialer.dial({ host: '127.0.0.1', port: listed.port }), 'a.lab.test');
    ok.destroy();
    const raw = await censor.dialer.dial({ host: '127.0.0.1', port: other.port });
    assert.equal(other.connections, 1, 'the TCP handshake went through');
    const hs = tlsOver(raw, 'a.lab.test');
    hs.catch(() => undefined);
    const entry = await censor.waitFor((e) => e.rule === 'allowlist' && e.action === 'drop');
    assert.match(entry.reason, /not on the allowlist/);
    await settleIo();
    assert.equal(censor.flows().find((f) => f.server.port === other.port)?.bytesToServer, 0, 'the ClientHello never left the censor');
    raw.destroy();
  } finally {
    await censor.close();
    await listed.close();
    await other.close();
  }
});

test('allowlist by IP and SNI: the listed address with another name is dropped; switched on mid-connection', async () => {
  const server = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor();
  try {
    const before = await tlsOver(await censor.dialer.dial({ host: '127.0.0.1', port: server.port }), 'other.lab.test');
    const got = collect(before);
    censor.set([allowlist({ allow: [{ destination: server.endpoint, names: ['ok.lab.test'] }] })]);
    before.write('late');
    await settleIo();
    assert.equal(got.bytes(), 0, 'the open flow with the wrong SNI is dropped');
    const good = await tlsOver(await censor.dialer.dial({ host: '127.0.0.1', port: server.port }), 'ok.lab.test');
    const gotGood = collect(good);
    good.write('fine');
    await waitUntil(() => gotGood.bytes() === 4, 'allowed IP+SNI works');
    const bad = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    tlsOver(bad, 'other.lab.test').catch(() => undefined);
    await censor.waitFor((e) => e.rule === 'allowlist' && e.sni === 'other.lab.test' && e.flowId !== 1);
    before.destroy();
    good.destroy();
    bad.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});
