/** Property tests: every backend gives the same bytes, and each one's outputs work on the others. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BACKENDS, outcome, rejectsWith } from './helpers.js';

const RUNS = 40;
/** Pure-JS ML-KEM-1024 costs milliseconds per operation on 2 cores: keep it to a handful. */
const MLKEM_RUNS = 3;
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const key32 = bytes(32, 32);

async function allEqual(fn: (b: (typeof BACKENDS)[number]) => Promise<Uint8Array | boolean>): Promise<void> {
  const results = await Promise.all(BACKENDS.map((b) => outcome(() => fn(b))));
  assert.equal(new Set(results).size, 1, results.join(' | '));
}

describe('cross-backend equality', () => {
  it('hashes, HMAC and HKDF', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(0, 300), bytes(0, 200), bytes(0, 100), fc.integer({ min: 1, max: 300 }), async (a, k, info, len) => {
        await allEqual((b) => b.sha256(a));
        await allEqual((b) => b.sha512(a));
        await allEqual((b) => b.hmacSha256(k, a));
        await allEqual((b) => b.hmacSha512(k, a));
        await allEqual((b) => b.hkdfSha256(a, k, info, len));
        await allEqual((b) => b.hkdfSha512(a, k, info, len));
      }),
      { numRuns: RUNS },
    );
  });

  it('HKDF info longer than OpenSSL allows (node falls back) still agrees', async () => {
    const info = new Uint8Array(2000).fill(7);
    await allEqual((b) => b.hkdfSha256(new Uint8Array(32), new Uint8Array(0), info, 64));
  });

  it('X25519 public keys and shared secrets, any 32-byte inputs', async () => {
    await fc.assert(
      fc.asyncProperty(key32, key32, async (sk, pk) => {
        await allEqual((b) => b.x25519PublicKey(sk));
        await allEqual((b) => b.x25519(sk, pk));
      }),
      { numRuns: RUNS },
    );
  });

  it('X25519 key agreement across backends', async () => {
    for (const a of BACKENDS) {
      for (const b of BACKENDS) {
        const ka = await a.x25519GenerateKeyPair();
        const kb = await b.x25519GenerateKeyPair();
        assert.deepEqual(await a.x25519(ka.secretKey, kb.publicKey), await b.x25519(kb.secretKey, ka.publicKey));
      }
    }
  });

  it('Ed25519: same keys and signatures, and a signature from one verifies on all', async () => {
    await fc.assert(
      fc.asyncProperty(key32, bytes(0, 200), async (seed, msg) => {
        await allEqual((b) => b.ed25519PublicKey(seed));
        await allEqual((b) => b.ed25519Sign(seed, msg));
        for (const signer of BACKENDS) {
          const pk = await signer.ed25519PublicKey(seed);
          const sig = await signer.ed25519Sign(seed, msg);
          for (const verifier of BACKENDS) {
            assert.equal(await verifier.ed25519Verify(pk, msg, sig), true);
            const tampered = sig.slice();
            tampered[sig.length - 1]! ^= 0x40;
            assert.equal(await verifier.ed25519Verify(pk, msg, tampered), false);
          }
        }
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('Ed25519 verify agrees on arbitrary (mostly malformed) keys and signatures', async () => {
    await fc.assert(
      fc.asyncProperty(key32, bytes(64, 64), bytes(0, 40), async (pk, sig, msg) => {
        await allEqual((b) => b.ed25519Verify(pk, msg, sig));
      }),
      { numRuns: RUNS },
    );
  });

  it('AES-256-GCM: same ciphertext, decrypt(encrypt(x)) = x, any flipped bit -> BAD_TAG', async () => {
    await fc.assert(
      fc.asyncProperty(key32, bytes(12, 12), bytes(0, 200), bytes(0, 50), fc.nat(), async (key, nonce, msg, aad, pick) => {
        await allEqual((b) => b.aes256GcmEncrypt(key, nonce, msg, aad));
        for (const enc of BACKENDS) {
          const sealed = await enc.aes256GcmEncrypt(key, nonce, msg, aad);
          const bit = pick % (sealed.length * 8);
          const flipped = sealed.slice();
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          for (const dec of BACKENDS) {
            assert.deepEqual(await dec.aes256GcmDecrypt(key, nonce, sealed, aad), msg);
            await rejectsWith(dec.aes256GcmDecrypt(key, nonce, flipped, aad), 'BAD_TAG');
            if (aad.length > 0) {
              const badAad = aad.slice();
              badAad[pick % aad.length]! ^= 0x80;
              await rejectsWith(dec.aes256GcmDecrypt(key, nonce, sealed, badAad), 'BAD_TAG');
            }
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('AES-GCM: missing aad equals empty aad; truncated input -> BAD_TAG', async () => {
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(12);
    await allEqual((b) => b.aes256GcmEncrypt(key, nonce, new Uint8Array(5)));
    for (const b of BACKENDS) {
      const sealed = await b.aes256GcmEncrypt(key, nonce, new Uint8Array(5));
      assert.deepEqual(await b.aes256GcmDecrypt(key, nonce, sealed, new Uint8Array(0)), new Uint8Array(5));
      await rejectsWith(b.aes256GcmDecrypt(key, nonce, sealed.subarray(0, 15)), 'BAD_TAG');
      await rejectsWith(b.aes256GcmDecrypt(key, nonce, new Uint8Array(0)), 'BAD_TAG');
    }
  });

  it('ML-KEM-1024: deterministic keygen/encapsulation agree and round-trip', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(64, 64), key32, async (seed, m) => {
        const kps = await Promise.all(BACKENDS.map((b) => b.mlKem1024GenerateKeyPair(seed)));
        for (const kp of kps) assert.deepEqual(kp, kps[0]);
        const enc = await BACKENDS[0]!.mlKem1024Encapsulate(kps[0]!.publicKey, m);
        for (const b of BACKENDS) {
          assert.deepEqual(await b.mlKem1024Encapsulate(kps[0]!.publicKey, m), enc);
          assert.deepEqual(await b.mlKem1024Decapsulate(enc.ciphertext, kps[0]!.secretKey), enc.sharedSecret);
        }
      }),
      { numRuns: MLKEM_RUNS },
    );
  });

  it('randomBytes: right length, chunking past 65,536 bytes, not constant', () => {
    for (const b of BACKENDS) {
      assert.equal(b.randomBytes(0).length, 0);
      const big = b.randomBytes(70_000);
      assert.equal(big.length, 70_000);
      assert.notDeepEqual(big.subarray(65_536), new Uint8Array(70_000 - 65_536)); // tail was filled too
      assert.notDeepEqual(b.randomBytes(32), b.randomBytes(32));
    }
  });

  it('outputs are plain Uint8Arrays that own their memory', async () => {
    for (const b of BACKENDS) {
      for (const out of [await b.sha256(new Uint8Array(1)), await b.ed25519Sign(new Uint8Array(32), new Uint8Array(1)), await b.x25519PublicKey(new Uint8Array(32).fill(3))]) {
        assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype, b.name);
        assert.equal(out.buffer.byteLength, out.byteLength, b.name);
      }
    }
  });
});
