/** RFC known-answer tests (test/vectors/rfc*.json) against every backend. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toHex } from '../src/index.node.js';
import { BACKENDS, hex, loadVectors } from './helpers.js';

interface Rfc7748 {
  scalarMult: { scalar: string; u: string; output: string }[];
  iterated: { start: string; after1: string; after1000: string };
  diffieHellman: Record<'alicePrivate' | 'alicePublic' | 'bobPrivate' | 'bobPublic' | 'shared', string>;
}
interface Rfc8032 { cases: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[] }
interface Rfc5869 { cases: { name: string; ikm: string; salt: string; info: string; length: number; prk: string; okm: string }[] }

const x = loadVectors<Rfc7748>('rfc7748.json');
const ed = loadVectors<Rfc8032>('rfc8032.json');
const kdf = loadVectors<Rfc5869>('rfc5869.json');
/** The 1,000-iteration vector is a slow loop in pure JS: run it on the fast backend only, 1 iteration on all. */
const ITERATED_ALL_BACKENDS = 1;

for (const b of BACKENDS) {
  describe(`RFC vectors on ${b.name}`, () => {
    it('RFC 7748 section 5.2 scalar multiplication', async () => {
      for (const v of x.scalarMult) assert.equal(toHex(await b.x25519(hex(v.scalar), hex(v.u))), v.output);
    });
    it('RFC 7748 section 5.2 iterated (1 iteration; 1,000 on node)', async () => {
      let k = hex(x.iterated.start);
      let u = hex(x.iterated.start);
      const rounds = b.name === 'node' ? 1000 : ITERATED_ALL_BACKENDS;
      for (let i = 1; i <= rounds; i++) {
        const next = await b.x25519(k, u);
        u = k;
        k = next;
        if (i === 1) assert.equal(toHex(k), x.iterated.after1);
      }
      if (rounds === 1000) assert.equal(toHex(k), x.iterated.after1000);
    });
    it('RFC 7748 section 6.1 Diffie-Hellman', async () => {
      const d = x.diffieHellman;
      assert.equal(toHex(await b.x25519PublicKey(hex(d.alicePrivate))), d.alicePublic);
      assert.equal(toHex(await b.x25519PublicKey(hex(d.bobPrivate))), d.bobPublic);
      assert.equal(toHex(await b.x25519(hex(d.alicePrivate), hex(d.bobPublic))), d.shared);
      assert.equal(toHex(await b.x25519(hex(d.bobPrivate), hex(d.alicePublic))), d.shared);
    });
    for (const c of ed.cases) {
      it(`RFC 8032 section 7.1 ${c.name}`, async () => {
        assert.equal(toHex(await b.ed25519PublicKey(hex(c.secretKey))), c.publicKey);
        assert.equal(toHex(await b.ed25519Sign(hex(c.secretKey), hex(c.message))), c.signature);
        assert.equal(await b.ed25519Verify(hex(c.publicKey), hex(c.message), hex(c.signature)), true);
      });
    }
    for (const c of kdf.cases) {
      it(`RFC 5869 appendix ${c.name}`, async () => {
        // PRK = HMAC-Hash(salt, IKM) (section 2.2); an empty salt acts as HashLen zeros.
        const salt = c.salt === '' ? new Uint8Array(32) : hex(c.salt);
        assert.equal(toHex(await b.hmacSha256(salt, hex(c.ikm))), c.prk);
        assert.equal(toHex(await b.hmacSha256(hex(c.salt), hex(c.ikm))), c.prk);
        assert.equal(toHex(await b.hkdfSha256(hex(c.ikm), hex(c.salt), hex(c.info), c.length)), c.okm);
      });
    }
  });
}
