import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseClientHello, isGrease, MAX_RECORD_PAYLOAD, CLIENT_HELLO_PROBLEMS } from '../src/client-hello.js';
import type { ClientHelloResult } from '../src/client-hello.js';
import { buildChromiumLikeHello } from './helpers/client-hello-builder.js';
import { captureNodeClientHello } from './helpers/net.js';

function ok(result: ClientHelloResult) {
  assert.equal(result.status, 'ok', JSON.stringify(result));
  if (result.status !== 'ok') throw new Error('unreachable');
  return result.hello;
}

const STATUSES = new Set(['ok', 'incomplete', 'not-tls', 'malformed']);
function wellTyped(result: ClientHelloResult): void {
  assert.ok(STATUSES.has(result.status));
  if (result.status === 'malformed') assert.ok((CLIENT_HELLO_PROBLEMS as readonly string[]).includes(result.problem));
}

test('parses the ClientHello node:tls really sends', async () => {
  const bytes = await captureNodeClientHello('Relay.Example', ['h2', 'http/1.1']);
  const hello = ok(parseClientHello(bytes));
  assert.equal(hello.serverName, 'relay.example');
  assert.deepEqual(hello.alpn, ['h2', 'http/1.1']);
  assert.ok(hello.supportedVersions?.includes(0x0304), 'offers TLS 1.3');
  assert.equal(hello.legacyVersion, 0x0303);
  assert.equal(hello.random.length, 32);
  assert.equal(hello.grease, false, 'OpenSSL sends no GREASE');
  assert.equal(hello.recordBytes, bytes.length);
});

test('parses a Chromium-like ClientHello (GREASE, ML-KEM key share, ECH GREASE)', () => {
  const bytes = buildChromiumLikeHello({ sni: 'www.example.com' });
  assert.ok(bytes.length > 1448, 'larger than one TCP segment');
  const hello = ok(parseClientHello(bytes));
  assert.equal(hello.serverName, 'www.example.com');
  assert.deepEqual(hello.alpn, ['h2', 'http/1.1']);
  assert.equal(hello.grease, true);
  assert.ok(hello.cipherSuites.includes(0x1301));
  assert.ok(hello.extensions.some((e) => e.type === 0x11ec) === false, 'ML-KEM is a group, not an extension');
  assert.ok(hello.extensions.some((e) => e.type === 51 && e.data.length > 1216));
});

test('a ClientHello without server_name parses with serverName undefined', () => {
  const hello = ok(parseClientHello(buildChromiumLikeHello({})));
  assert.equal(hello.serverName, undefined);
});

test('reassembles a ClientHello fragmented over several TLS records', () => {
  for (const recordSize of [1, 7, 100, 512]) {
    const bytes = buildChromiumLikeHello({ sni: 'split.example', recordSize });
    const hello = ok(parseClientHello(bytes));
    assert.equal(hello.serverName, 'split.example');
    assert.equal(hello.recordBytes, bytes.length);
  }
});

test('every proper prefix of a real ClientHello is incomplete, never an error', async () => {
  const samples = [await captureNodeClientHello('prefix.example'), buildChromiumLikeHello({ sni: 'p.example', recordSize: 300 })];
  for (const bytes of samples) {
    for (let n = 0; n < bytes.length; n++) {
      const r = parseClientHello(bytes.subarray(0, n));
      assert.equal(r.status, 'incomplete', `prefix of ${n} bytes`);
    }
  }
});

test('bytes after the ClientHello (the next flight) do not change the result', () => {
  const bytes = buildChromiumLikeHello({ sni: 'x.example' });
  const more = new Uint8Array(bytes.length + 50);
  more.set(bytes);
  assert.equal(ok(parseClientHello(more)).serverName, 'x.example');
});

test('non-TLS first bytes are not-tls', () => {
  for (const text of ['GET / HTTP/1.1\r\n', 'SSH-2.0-OpenSSH', '\x17\x03\x03\x00\x10']) {
    assert.equal(parseClientHello(Uint8Array.from(text, (c) => c.charCodeAt(0))).status, 'not-tls', text);
  }
  assert.equal(parseClientHello(Uint8Array.of(0x16, 0x02)).status, 'not-tls');
});

test('malformed ClientHellos get named problems', () => {
  const good = buildChromiumLikeHello({ sni: 'm.example' });
  const set = (bytes: Uint8Array, i: number, v: number) => {
    const c = bytes.slice();
    c[i] = v;
    return c;
  };
  // record length above 2^14 (RFC 8446 §5.1)
  const tooLong = set(set(good, 3, ((MAX_RECORD_PAYLOAD + 1) >> 8) & 0xff), 4, (MAX_RECORD_PAYLOAD + 1) & 0xff);
  assert.deepEqual(parseClientHello(tooLong), { status: 'malformed', problem: 'record-too-long' });
  // a ServerHello (type 2) where a ClientHello belongs
  assert.deepEqual(parseClientHello(set(good, 5, 2)), { status: 'malformed', problem: 'not-client-hello' });
  // session id length 33
  assert.deepEqual(parseClientHello(set(good, 5 + 4 + 2 + 32, 33)), { status: 'malformed', problem: 'bad-session-id' });
  // empty handshake record
  assert.deepEqual(parseClientHello(Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x00)), { status: 'malformed', problem: 'empty-record' });
  // an application-data record inside a fragmented ClientHello
  const split = buildChromiumLikeHello({ sni: 'm.example', recordSize: 100 });
  assert.deepEqual(parseClientHello(set(split, 105, 0x17)), { status: 'malformed', problem: 'interleaved-record' });
});

test('duplicate extensions and a bad host name are malformed', () => {
  const sniExt = (name: string) => {
    const n = [...name].map((c) => c.charCodeAt(0));
    const entry = [0, n.length >> 8, n.length & 0xff, ...n];
    const list = [entry.length >> 8, entry.length & 0xff, ...entry];
    return [0, 0, list.length >> 8, list.length & 0xff, ...list];
  };
  const hello = (exts: number[]) => {
    const body = [3, 3, ...new Array<number>(32).fill(1), 0, 0, 2, 0x13, 0x01, 1, 0, exts.length >> 8, exts.length & 0xff, ...exts];
    const msg = [1, 0, body.length >> 8, body.length & 0xff, ...body];
    return Uint8Array.from([0x16, 3, 1, msg.length >> 8, msg.length & 0xff, ...msg]);
  };
  assert.equal(ok(parseClientHello(hello(sniExt('a.example')))).serverName, 'a.example');
  assert.deepEqual(parseClientHello(hello([...sniExt('a.example'), ...sniExt('b.example')])), { status: 'malformed', problem: 'duplicate-extension' });
  assert.deepEqual(parseClientHello(hello(sniExt('bad name'))), { status: 'malformed', problem: 'bad-server-name' });
  assert.deepEqual(parseClientHello(hello([0, 0, 0, 3, 0, 9, 0])), { status: 'malformed', problem: 'bad-extension' });
  // TLS 1.0-1.2 ClientHellos may omit extensions entirely
  const bare = Uint8Array.from([0x16, 3, 1, 0, 45, 1, 0, 0, 41, 3, 1, ...new Array<number>(32).fill(2), 0, 0, 2, 0, 0x2f, 1, 0]);
  assert.equal(ok(parseClientHello(bare)).extensions.length, 0);
});

test('GREASE values are recognised (RFC 8701)', () => {
  assert.equal(isGrease(0x0a0a), true);
  assert.equal(isGrease(0xfafa), true);
  assert.equal(isGrease(0x0a1a), false);
  assert.equal(isGrease(0x1301), false);
});

test('random and mutated inputs never throw and always give a typed result', () => {
  const base = buildChromiumLikeHello({ sni: 'fuzz.example', recordSize: 400 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      wellTyped(parseClientHello(bytes));
      // the same garbage behind a plausible record header
      const framed = Uint8Array.from([0x16, 0x03, 0x01, bytes.length >> 8, bytes.length & 0xff, ...bytes]);
      wellTyped(parseClientHello(framed));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const c = base.slice();
      for (const [i, v] of edits) c[i] = v;
      wellTyped(parseClientHello(c));
    }),
    { numRuns: 1000 },
  );
});
