import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { Censor } from '../src/censor.js';
import { ManualClock } from '../src/clock.js';
import { LabError, NetError } from '../src/errors.js';
import { realDialer, realResolver, staticResolver } from '../src/real-net.js';
import { createConnectionVia, socketFromDial } from '../src/socket-from-dial.js';
import type { DialOptions } from '../src/seams.js';
import { testCertificate } from '../src/test-certificate.js';
import { createServer as createHttpsServer } from 'node:https';
import { startTestServer } from '../src/test-server.js';
import { ipBlock } from '../src/rules/ip-block.js';
import { sniFilter } from '../src/rules/sni-filter.js';
import { advance, collect, codeOf, tlsOver, waitUntil } from './helpers/net.js';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('real dialer: connects, and refuses with ECONNREFUSED', async () => {
  const server = await startTestServer({ kind: 'echo' });
  try {
    const s = await realDialer.dial({ host: '127.0.0.1', port: server.port });
    s.destroy();
    assert.equal(await codeOf(realDialer.dial({ host: '127.0.0.1', port: await closedPort() })), 'ECONNREFUSED');
    const ac = new AbortController();
    ac.abort();
    assert.equal(await codeOf(realDialer.dial({ host: '127.0.0.1', port: server.port, signal: ac.signal })), 'ECONNABORTED');
    // The dialer itself is @pigeon/transport's (raw Node errors); the lab's contract is a NetError.
    await assert.rejects(realDialer.dial({ host: '127.0.0.1', port: await closedPort() }), (e: unknown) => e instanceof NetError && e.code === 'ECONNREFUSED');
    await assert.rejects(realDialer.dial({ host: '127.0.0.1', port: server.port, signal: ac.signal }), (e: unknown) => e instanceof NetError && e.code === 'ECONNABORTED');
  } finally {
    await server.close();
  }
});

test('resolvers: real, static, and typed failures', async () => {
  assert.deepEqual(await realResolver.resolve('127.0.0.1'), ['127.0.0.1']);
  assert.ok((await realResolver.resolve('localhost')).length > 0);
  const r = staticResolver({ 'relay.example': '127.0.0.1' });
  assert.deepEqual(await r.resolve('RELAY.example.'), ['127.0.0.1']);
  assert.equal(await codeOf(r.resolve('other.example')), 'ENOTFOUND');
  assert.throws(() => staticResolver({ x: 'not-an-ip' }), (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION');
});

test('without rules the censor is a transparent pipe, in order, both ways, with FIN', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ mss: 100 });
  try {
    const s = await censor.dialer.dial({ host: '127.0.0.1', port: server.port });
    const got = collect(s);
    const payload = Buffer.alloc(50_000, 0);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    s.write(payload);
    await waitUntil(() => got.bytes() === payload.length, 'echo of 50 KB');
    assert.ok(got.data().equals(payload));
    const flow = censor.flows()[0];
    assert.ok(flow !== undefined);
    assert.equal(flow.bytesToServer, payload.length);
    assert.equal(flow.packetsToServer, 500, 'cut into 100-byte segments');
    s.end();
    await waitUntil(() => got.ended(), 'FIN from the server passed through');
    await waitUntil(() => censor.flows().length === 0, 'flow closed');
    assert.match(censor.explain(), /nothing blocked/);
  } finally {
    await censor.close();
    await server.close();
  }
});

test('dialing a name goes through the censor resolver; refused upstream is ECONNREFUSED', async () => {
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ upstreamResolver: staticResolver({ 'relay.example': '127.0.0.1' }) });
  try {
    const s = await censor.dialer.dial({ host: 'relay.example', port: server.port });
    assert.equal(censor.flows()[0]?.dialedName, 'relay.example');
    s.destroy();
    assert.equal(await codeOf(censor.dialer.dial({ host: '127.0.0.1', port: await closedPort() })), 'ECONNREFUSED');
    assert.equal(await codeOf(censor.dialer.dial({ host: 'nowhere.example', port: server.port })), 'ENOTFOUND');
  } finally {
    await censor.close();
    await server.close();
  }
});

test('a hung dial fails with ETIMEDOUT on the censor clock, or ECONNABORTED when aborted or closed', async () => {
  const clock = new ManualClock();
  const server = await startTestServer({ kind: 'echo' });
  const censor = new Censor({ clock, rules: [ipBlock({ destinations: [server.endpoint] })] });
  try {
    const pending = codeOf(censor.dialer.dial({ host: '127.0.0.1', port: server.port, timeoutMs: 5_000 }));
    await advance(clock, 4_999);
    const ac = new AbortController();
    const aborted = codeOf(censor.dialer.dial({ host: '127.0.0.1', port: server.port, signal: ac.signal }));
    ac.abort();
    assert.equal(await aborted, 'ECONNABORTED');
    await advance(clock, 1);
    assert.equal(await pending, 'ETIMEDOUT');
    const third = codeOf(censor.dialer.dial({ host: '127.0.0.1', port: server.port }));
    await censor.close();
    assert.equal(await third, 'ECONNABORTED');
    assert.equal(server.connections, 0, 'no SYN reached the server');
  } finally {
    await censor.close();
    await server.close();
  }
});

test('set() rejects two rules with one name; a closed censor refuses work', async () => {
  const censor = new Censor();
  assert.throws(
    () => censor.set([ipBlock({ destinations: ['10.0.0.1'] }), ipBlock({ destinations: ['10.0.0.2'] })]),
    (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION',
  );
  assert.throws(() => ipBlock({ destinations: ['not-an-address'] }), (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION');
  assert.throws(() => new Censor({ mss: 0 }), (e: unknown) => e instanceof LabError && e.code === 'BAD_OPTION');
  await censor.close();
  assert.throws(() => censor.set([]), (e: unknown) => e instanceof LabError && e.code === 'BAD_STATE');
  await assert.rejects(censor.dialer.dial({ host: '127.0.0.1', port: 1 }), (e: unknown) => e instanceof NetError && e.code === 'ECONNABORTED');
});

test('socketFromDial: destroying the socket before the dial completes aborts the dial', async () => {
  let seen: DialOptions | undefined;
  const dialer = {
    dial: (options: DialOptions) =>
      new Promise<never>((_resolve, reject) => {
        seen = options;
        options.signal?.addEventListener('abort', () => reject(new NetError('ECONNABORTED', 'dial aborted')), { once: true });
      }),
  };
  const socket = socketFromDial(dialer, { host: '127.0.0.1', port: 1 });
  assert.equal(socket.connecting, true);
  assert.equal(seen?.signal?.aborted, false);
  socket.destroy();
  assert.equal(seen?.signal?.aborted, true);
});

test('createConnectionVia carries ws over the censor; a refused dial is a ws error', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  const port = (wss.address() as AddressInfo).port;
  const censor = new Censor();
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { createConnection: createConnectionVia(censor.dialer) });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('through the censor'));
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    assert.equal(echoed, 'through the censor');
    assert.equal(censor.flows().length, 1);
    ws.terminate();
    // A failed dial surfaces as a ws error, not a crash.
    censor.set([ipBlock({ destinations: [`127.0.0.1:${port}`], action: 'reject' })]);
    const refused = new WebSocket(`ws://127.0.0.1:${port}/`, { createConnection: createConnectionVia(censor.dialer) });
    const err = await new Promise<Error & { code?: string }>((resolve) => refused.once('error', resolve));
    assert.equal(err.code, 'ECONNREFUSED');
  } finally {
    await censor.close();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});

test('wss through the censor: passes for an allowed SNI, reset for a blocked one', async () => {
  const cert = testCertificate();
  const https = createHttpsServer({ cert: cert.cert, key: cert.key });
  const wss = new WebSocketServer({ server: https });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  const port = (https.address() as AddressInfo).port;
  const censor = new Censor({ rules: [sniFilter({ names: ['*.blocked.test'] })] });
  const open = (servername: string) =>
    new WebSocket(`wss://127.0.0.1:${port}/`, { createConnection: createConnectionVia(censor.dialer, { tls: { servername, rejectUnauthorized: false } }) });
  try {
    const ok = open('relay.lab.test');
    const echoed = await new Promise<string>((resolve, reject) => {
      ok.once('open', () => ok.send('over wss'));
      ok.once('message', (m) => resolve(String(m)));
      ok.once('error', reject);
    });
    assert.equal(echoed, 'over wss');
    ok.terminate();
    const blocked = open('relay.blocked.test');
    const err = await new Promise<Error & { code?: string }>((resolve) => blocked.once('error', resolve));
    assert.equal(err.code, 'ECONNRESET', censor.explain());
    assert.ok(censor.log.some((e) => e.rule === 'sniFilter' && e.action === 'reset' && e.sni === 'relay.blocked.test'));
  } finally {
    await censor.close();
    wss.close();
    await new Promise<void>((r) => https.close(() => r()));
  }
});

test('tls.connect over a censored socket works, and the censor reads its SNI', async () => {
  const server = await startTestServer({ kind: 'echo', tls: true });
  const censor = new Censor({ rules: [sniFilter({ names: ['blocked.lab.test'] })] });
  try {
    const t = await tlsOver(await censor.dialer.dial({ host: '127.0.0.1', port: server.port }), 'fine.lab.test');
    const got = collect(t);
    t.write('hello');
    await waitUntil(() => got.bytes() === 5, 'TLS echo');
    assert.equal(censor.flows()[0]?.sni, 'fine.lab.test');
    assert.equal(censor.flows()[0]?.tls, 'client-hello');
    t.destroy();
  } finally {
    await censor.close();
    await server.close();
  }
});
