import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFirstPacket, FET_POPCOUNT_HIGH, FET_POPCOUNT_LOW, FET_PRINTABLE_RUN } from '../src/fully-encrypted.js';
import { buildChromiumLikeHello } from './helpers/client-hello-builder.js';
import { pseudoRandom } from './helpers/bytes.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('random-looking bytes fit no exemption (blocked)', () => {
  for (const n of [64, 200, 600, 1400]) {
    const v = classifyFirstPacket(pseudoRandom(n, `r${n}`));
    assert.equal(v.exempt, false, `n=${n} ${JSON.stringify(v)}`);
    assert.ok(v.popcountPerByte > FET_POPCOUNT_LOW && v.popcountPerByte < FET_POPCOUNT_HIGH);
  }
});

test('a TLS ClientHello and an HTTP request are exempt', () => {
  assert.equal(classifyFirstPacket(buildChromiumLikeHello({ sni: 'a.example' })).exempt, true);
  const http = classifyFirstPacket(ascii('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n'));
  assert.equal(http.exempt, true);
});

test('each exemption Ex1-Ex5 on its own', () => {
  // Ex1: low popcount (mostly zero bytes, then random)
  const low = pseudoRandom(100, 'ex1');
  low.fill(0, 0, 40);
  assert.equal(classifyFirstPacket(low).exemption, 'ex1-popcount');
  const high = pseudoRandom(100, 'ex1h');
  high.fill(0xff, 0, 40);
  assert.equal(classifyFirstPacket(high).exemption, 'ex1-popcount');
  // Ex2: six printable bytes in front of random data
  const ex2 = pseudoRandom(200, 'ex2');
  ex2.set(ascii('abcdef'));
  assert.equal(classifyFirstPacket(ex2).exemption, 'ex2-printable-prefix');
  // Ex4: a printable run of 21 in the middle (and it is exactly the boundary: 20 is not enough)
  const ex4 = pseudoRandom(200, 'ex4');
  ex4[0] = 0x01;
  ex4.set(ascii('x'.repeat(FET_PRINTABLE_RUN + 1)), 100);
  ex4[99] = 0x01;
  ex4[100 + FET_PRINTABLE_RUN + 1] = 0x01;
  const v4 = classifyFirstPacket(ex4);
  assert.ok(v4.exemption === 'ex4-printable-run' || v4.exemption === 'ex1-popcount', JSON.stringify(v4));
  const ex5 = pseudoRandom(200, 'ex5');
  ex5.set([0x17, 0x03, 0x03]);
  const v5 = classifyFirstPacket(ex5);
  assert.equal(v5.exemption, 'ex5-protocol-prefix', JSON.stringify(v5));
});

test('Ex3: more than half printable is exempt', () => {
  // Alternate a printable byte with a non-printable one whose popcount keeps the average near 4.
  const make = (printableEvery: number) => {
    const out = new Uint8Array(240);
    for (let i = 0; i < out.length; i++) out[i] = i % printableEvery === 0 ? 0x87 : 0x5a; // 0x87: 4 bits, not printable; 0x5a 'Z': 4 bits
    out[1] = 0x87; // break a printable prefix
    return out;
  };
  const mostly = classifyFirstPacket(make(3));
  assert.equal(mostly.exempt, true);
  assert.ok(mostly.printableFraction > 0.5);
});
