/**
 * Wycheproof vectors (test/vectors/*_test.json, see README.md there) against every backend.
 * Semantics: "valid" must succeed with the expected output, "invalid" must be refused,
 * "acceptable" may go either way but all backends must agree (we also pin the chosen outcome).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS, hex, loadVectors, outcome, rejectsWith } from './helpers.js';

type Result = 'valid' | 'invalid' | 'acceptable';
interface Suite<G> {
  readonly testGroups: readonly G[];
}
interface XdhTest { tcId: number; comment: string; flags: string[]; public: string; private: string; shared: string; result: Result }
interface EddsaGroup { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: Result }[] }
interface AeadGroup { keySize: number; ivSize: number; tests: { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: Result }[] }
interface HkdfTest { tcId: number; ikm: string; salt: string; info: string; size: number; okm: string; result: Result }
interface MlKemTest { tcId: number; seed: string; ek: string; c: string; K: string; result: Result }

describe('Wycheproof x25519_test.json', () => {
  const tests = loadVectors<Suite<{ tests: XdhTest[] }>>('x25519_test.json').testGroups.flatMap((g) => g.tests);
  it('has the vendored cases', () => assert.equal(tests.length, 61));
  for (const t of tests) {
    it(`tcId ${t.tcId} (${t.result}${t.flags.length ? ': ' + t.flags.join(',') : ''})`, async () => {
      const results = await Promise.all(BACKENDS.map((b) => outcome(() => b.x25519(hex(t.private), hex(t.public)))));
      assert.equal(new Set(results).size, 1, `backends disagree: ${results.join(' | ')}`);
      if (t.result === 'valid') assert.equal(results[0], t.shared);
      else if (t.result === 'invalid') assert.match(results[0]!, /^error:/);
      else if (t.flags.includes('ZeroSharedSecret')) assert.equal(results[0], 'error:LOW_ORDER_POINT'); // RFC 7748 section 6.1 check
      else assert.equal(results[0], t.shared); // twist points: we compute RFC 7748's value
    });
  }
});

describe('Wycheproof ed25519_test.json', () => {
  const groups = loadVectors<Suite<EddsaGroup>>('ed25519_test.json').testGroups;
  for (const g of groups) {
    for (const t of g.tests) {
      it(`tcId ${t.tcId} (${t.result})`, async () => {
        const results = await Promise.all(BACKENDS.map((b) => b.ed25519Verify(hex(g.publicKey.pk), hex(t.msg), hex(t.sig))));
        assert.equal(new Set(results).size, 1, `backends disagree: ${results.join(' | ')}`);
        if (t.result !== 'acceptable') assert.equal(results[0], t.result === 'valid');
      });
    }
  }
});

describe('Wycheproof aes_gcm_test.json', () => {
  const groups = loadVectors<Suite<AeadGroup>>('aes_gcm_test.json').testGroups;
  for (const g of groups) {
    for (const t of g.tests) {
      const supported = g.keySize === 256 && g.ivSize === 96;
      it(`tcId ${t.tcId} (${t.result}, key ${g.keySize})`, async () => {
        for (const b of BACKENDS) {
          const [key, iv, aad, msg] = [hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg)];
          const sealed = hex(t.ct + t.tag);
          if (!supported) {
            // Only AES-256 with 96-bit nonces is offered: other sizes are refused, never guessed.
            await rejectsWith(b.aes256GcmEncrypt(key, iv, msg, aad), 'BAD_KEY_LENGTH');
            continue;
          }
          if (t.result === 'valid') {
            assert.deepEqual(await b.aes256GcmEncrypt(key, iv, msg, aad), sealed, b.name);
            assert.deepEqual(await b.aes256GcmDecrypt(key, iv, sealed, aad), msg, b.name);
            // The vendored subset has no invalid 256-bit cases: derive them by flipping each tag byte.
            for (let i = sealed.length - 16; i < sealed.length; i++) {
              const bad = sealed.slice();
              bad[i]! ^= 0x01;
              await rejectsWith(b.aes256GcmDecrypt(key, iv, bad, aad), 'BAD_TAG');
            }
          } else {
            await rejectsWith(b.aes256GcmDecrypt(key, iv, sealed, aad), 'BAD_TAG');
          }
        }
      });
    }
  }
});

describe('Wycheproof hkdf_sha256_test.json', () => {
  const tests = loadVectors<Suite<{ tests: HkdfTest[] }>>('hkdf_sha256_test.json').testGroups.flatMap((g) => g.tests);
  for (const t of tests) {
    it(`tcId ${t.tcId} (${t.result}, ${t.size} bytes)`, async () => {
      for (const b of BACKENDS) {
        const run = b.hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size);
        if (t.result === 'valid') assert.equal(Buffer.from(await run).toString('hex'), t.okm, b.name);
        else await rejectsWith(run, 'BAD_INPUT'); // SizeTooLarge: RFC 5869 section 2.3, L <= 255 * HashLen
      }
    });
  }
});

describe('Wycheproof mlkem_1024_test.json', () => {
  const tests = loadVectors<Suite<{ parameterSet: string; tests: MlKemTest[] }>>('mlkem_1024_test.json').testGroups.flatMap((g) => {
    assert.equal(g.parameterSet, 'ML-KEM-1024');
    return g.tests;
  });
  for (const t of tests) {
    it(`tcId ${t.tcId}: keygen from seed, implicit-rejection decapsulation`, async () => {
      for (const b of BACKENDS) {
        const { publicKey, secretKey } = await b.mlKem1024GenerateKeyPair(hex(t.seed));
        assert.equal(Buffer.from(publicKey).toString('hex'), t.ek, b.name);
        assert.equal(Buffer.from(await b.mlKem1024Decapsulate(hex(t.c), secretKey)).toString('hex'), t.K, b.name);
      }
    });
  }
});
