import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Censor } from '../src/censor.js';
import { ManualClock } from '../src/clock.js';
import { realDialer } from '../src/real-net.js';
import { realClock } from '../src/clock.js';
import { startTestServer } from '../src/test-server.js';
import { fullyEncryptedDetection } from '../src/rules/fully-encrypted-detection.js';
import { activeProbing } from '../src/rules/active-probing.js';
import { buildProbes, runProbe, classifyAnswer } from '../src/probe.js';
import { buildChromiumLikeHello } from './helpers/client-hello-builder.js';
import { pseudoRandom } from './helpers/bytes.js';
import { advance, codeOf, collect, settleIo, tlsOver, waitUntil } from './helpers/net.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const UPGRADE = ascii('GET /chat HTTP/1.1\r\nHost: relay.lab.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');

test('FET: random first packet is dropped both ways and the 3-tuple hangs for 180 s; TLS and HTTP pass', async () => {
  const clock = new ManualClock();
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ clock, rules: [fullyEncryptedDetection()] });
  const dial = () => censor.dialer.dial({ host: '127.0.0.1', port: server.port, timeoutMs: 1_000 });
  try {
    for (const first of [buildChromiumLikeHello({ sni: 'a.example' }), ascii('GET / HTTP/1.1\r\nHost: a\r\n\r\n')]) {
      const s = await dial();
      const got = collect(s);
      s.write(first);
      await waitUntil(() => got.bytes() === first.length, 'exempt first packet is echoed');
      s.destroy();
    }
    const s = await dial();
    const got = collect(s);
    s.write(pseudoRandom(300, 'fet'));
    await settleIo();
    assert.equal(got.bytes(), 0);
    assert.equal(censor.flows().find((f) => !f.closed && f.dropping.toServer)?.dropping.toClient, true);
    assert.match(censor.explain(), /fullyEncryptedDetection drop .*looks fully encrypted/);
    // residual: (client IP, server IP, port) blocked for 180 s, even for an innocent first packet
    const during = codeOf(dial());
    await advance(clock, 1_000);
    assert.equal(await during, 'ETIMEDOUT');
    await advance(clock, 178_000);
    const late = codeOf(dial());
    await advance(clock, 1_000);
    assert.equal(await late, 'ETIMEDOUT', 'still blocked just before 180 s');
    (await dial()).destroy();
    // another server port is a different 3-tuple
    const other = await startTestServer({ kind: 'echo' });
    (await censor.dialer.dial({ host: '127.0.0.1', port: other.port })).destroy();
    await other.close();
    s.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('FET with probability 0 never blocks; switched on mid-connection judges the recorded first packet', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ rules: [fullyEncryptedDetection({ probability: 0, name: 'never' })] });
  try {
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(s);
    s.write(pseudoRandom(300, 'p0'));
    await waitUntil(() => got.bytes() === 300, 'echo with probability 0');
    censor.set([fullyEncryptedDetection()]);
    s.write('more');
    await settleIo();
    assert.equal(got.bytes(), 300);
    assert.match(censor.log[0]?.reason ?? '', /mid-connection/);
    s.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});

test('probe classification: website vs WebSocket-only vs TLS website, without a censor', async () => {
  const website = await startTestServer({ kind: 'website' });
  const wsOnly = await startTestServer({ kind: 'websocket-only' });
  const tlsSite = await startTestServer({ kind: 'website', tls: true });
  try {
    const run = async (port: number, tls: boolean, first: Uint8Array) => {
      const target = { server: { ip: '127.0.0.1', port }, tls, sni: tls ? 'site.lab.test' : undefined };
      const probes = buildProbes(['replay', 'altered-replay', 'random', 'random', 'http-get', 'websocket-upgrade'], first, target, Math.random, [8, 221]);
      const out = [];
      for (const p of probes) out.push(await runProbe(realDialer, realClock, target, p, 2_000, () => false));
      return out;
    };
    const site = await run(website.port, false, UPGRADE);
    assert.ok(site.every((r) => r.class === 'ordinary'), JSON.stringify(site));
    const ws = await run(wsOnly.port, false, UPGRADE);
    assert.equal(ws.find((r) => r.kind === 'replay')?.outcome, 'websocket-upgrade');
    assert.equal(ws.find((r) => r.kind === 'http-get')?.outcome, 'upgrade-required');
    const https = await run(tlsSite.port, true, buildChromiumLikeHello({ sni: 'site.lab.test' }));
    assert.ok(https.every((r) => r.class === 'ordinary'), JSON.stringify(https));
    assert.equal(https.find((r) => r.kind === 'replay')?.outcome, 'tls-response');
    assert.equal(https.find((r) => r.kind === 'http-get')?.outcome, 'http-response');
    assert.equal(classifyAnswer(Uint8Array.of(5, 1, 0), false, false), 'unknown-protocol');
    assert.equal(classifyAnswer(new Uint8Array(0), true, false), 'closed-without-answer');
    assert.equal(classifyAnswer(new Uint8Array(0), false, false), 'no-answer');
  } finally {
    await website.close();
    await wsOnly.close();
    await tlsSite.close();
  }
});

test('activeProbing: a WebSocket-only endpoint is blocked, an ordinary website is not', async () => {
  const website = await startTestServer({ kind: 'website' });
  const wsOnly = await startTestServer({ kind: 'websocket-only' });
  const rule = activeProbing({ targets: [website.endpoint, wsOnly.endpoint], delayMs: 0 });
  const censor = new Censor({ rules: [rule] });
  try {
    for (const server of [website, wsOnly]) {
      const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
      const got = collect(s);
      s.write(UPGRADE);
      await waitUntil(() => got.bytes() > 0, 'the server answers the client');
    }
    await censor.settled();
    assert.equal(rule.verdicts.get(website.endpoint)?.blocked, false, censor.explain());
    assert.equal(rule.verdicts.get(wsOnly.endpoint)?.blocked, true, censor.explain());
    // Blocking the address also silences the flow that was open.
    const wsFlow = censor.flows().find((f) => f.server.port === wsOnly.port);
    assert.deepEqual(wsFlow?.dropping, { toServer: true, toClient: true });
    assert.equal(await codeOf(censor.dialer.dial({ host: '127.0.0.1', port: wsOnly.port, timeoutMs: 200 })), 'ETIMEDOUT');
    (await censor.dialer.dial({ host: '127.0.0.1', port: website.port })).destroy();
    const explained = censor.explain();
    assert.match(explained, /activeProbing probe .*replay probe .*websocket-upgrade -> suspicious/);
    assert.match(explained, /activeProbing block .*not an ordinary website/);
  } finally {
    await censor.close();
    await website.close();
    await wsOnly.close();
  }
});

test('activeProbing by default follows the FET trigger; a TLS website passes the probes', async () => {
  const echo = await startTestServer({ kind: 'echo' });
  const tlsSite = await startTestServer({ kind: 'website', tls: true });
  const rule = activeProbing({ delayMs: 0 });
  const censor = new Censor({ rules: [rule] });
  try {
    const t = await tlsOver(await censor.dialer.dial({ host: '127.0.0.1', port: tlsSite.port }), 'site.lab.test');
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: echo.port });
    s.write(pseudoRandom(200, 'probe-me'));
    await censor.waitFor((e) => e.action === 'block' || (e.action === 'probe' && e.server === echo.endpoint));
    await censor.settled();
    assert.equal(rule.verdicts.has(tlsSite.endpoint), false, 'a TLS ClientHello is not a trigger');
    // the echo server answers replays with the same random bytes: its own protocol
    assert.equal(rule.verdicts.get(echo.endpoint)?.blocked, true, censor.explain());
    t.destroy();
    s.destroy();
  } finally {
    await censor.close();
    await echo.close();
    await tlsSite.close();
  }
});
