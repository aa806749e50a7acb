/** Malformed input gets the same typed CryptoError from every backend, never a crash. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRYPTO_ERROR_CODES, MAX_RANDOM_BYTES, MLKEM1024_PUBLIC_KEY_BYTES } from '../src/index.node.js';
import { BACKENDS, rejectsWith } from './helpers.js';

const z = (n: number): Uint8Array => new Uint8Array(n);
const notBytes = 'not bytes' as unknown as Uint8Array;

for (const b of BACKENDS) {
  describe(`bad input on ${b.name}`, () => {
    it('AES-GCM key and nonce lengths', async () => {
      for (const n of [0, 16, 24, 31, 33, 64]) {
        await rejectsWith(b.aes256GcmEncrypt(z(n), z(12), z(1)), 'BAD_KEY_LENGTH');
        await rejectsWith(b.aes256GcmDecrypt(z(n), z(12), z(17)), 'BAD_KEY_LENGTH');
      }
      for (const n of [0, 8, 11, 13, 16]) {
        await rejectsWith(b.aes256GcmEncrypt(z(32), z(n), z(1)), 'BAD_NONCE_LENGTH');
        await rejectsWith(b.aes256GcmDecrypt(z(32), z(n), z(17)), 'BAD_NONCE_LENGTH');
      }
      await rejectsWith(b.aes256GcmEncrypt(z(32), z(12), notBytes), 'BAD_INPUT');
      await rejectsWith(b.aes256GcmEncrypt(notBytes, z(12), z(1)), 'BAD_INPUT');
    });

    it('X25519 and Ed25519 key lengths', async () => {
      for (const n of [0, 31, 33, 64]) {
        await rejectsWith(b.x25519PublicKey(z(n)), 'BAD_KEY_LENGTH');
        await rejectsWith(b.x25519(z(n), z(32)), 'BAD_KEY_LENGTH');
        await rejectsWith(b.x25519(z(32).fill(1), z(n)), 'BAD_KEY_LENGTH');
        await rejectsWith(b.ed25519PublicKey(z(n)), 'BAD_KEY_LENGTH');
        await rejectsWith(b.ed25519Sign(z(n), z(1)), 'BAD_KEY_LENGTH');
      }
      await rejectsWith(b.ed25519Sign(z(32), notBytes), 'BAD_INPUT');
    });

    it('X25519 all-zero result -> LOW_ORDER_POINT (RFC 7748 section 6.1)', async () => {
      for (const lowOrder of [z(32), Uint8Array.of(1, ...z(31))]) {
        await rejectsWith(b.x25519(z(32).fill(5), lowOrder), 'LOW_ORDER_POINT');
      }
    });

    it('Ed25519 verify returns false, never throws, for malformed input', async () => {
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
        [z(31), z(1), z(64)],
        [z(33), z(1), z(64)],
        [z(32), z(1), z(63)],
        [z(32), z(1), z(65)],
        [notBytes, z(1), z(64)],
        [z(32), notBytes, z(64)],
        [z(32), z(1), notBytes],
        [z(32).fill(0xff), z(1), z(64)], // y >= p: not canonical
      ];
      for (const [pk, msg, sig] of cases) assert.equal(await b.ed25519Verify(pk, msg, sig), false);
    });

    it('Ed25519 verify refuses small-order public keys even with a matching signature', async () => {
      // With A = identity and R = identity, S = 0 satisfies the equation for every message.
      const identity = Uint8Array.of(1, ...z(31));
      const sig = new Uint8Array(64);
      sig.set(identity);
      assert.equal(await b.ed25519Verify(identity, z(5), sig), false);
    });

    it('HKDF output length limits (RFC 5869 section 2.3)', async () => {
      await rejectsWith(b.hkdfSha256(z(32), z(0), z(0), 0), 'BAD_INPUT');
      await rejectsWith(b.hkdfSha256(z(32), z(0), z(0), 255 * 32 + 1), 'BAD_INPUT');
      await rejectsWith(b.hkdfSha512(z(32), z(0), z(0), 255 * 64 + 1), 'BAD_INPUT');
      await rejectsWith(b.hkdfSha256(z(32), z(0), z(0), 1.5), 'BAD_INPUT');
      assert.equal((await b.hkdfSha256(z(32), z(0), z(0), 255 * 32)).length, 255 * 32);
      await rejectsWith(b.hkdfSha256(notBytes, z(0), z(0), 32), 'BAD_INPUT');
    });

    it('hash and HMAC inputs must be bytes', async () => {
      await rejectsWith(b.sha256(notBytes), 'BAD_INPUT');
      await rejectsWith(b.sha512(notBytes), 'BAD_INPUT');
      await rejectsWith(b.hmacSha256(notBytes, z(1)), 'BAD_INPUT');
      await rejectsWith(b.hmacSha512(z(1), notBytes), 'BAD_INPUT');
    });

    it('randomBytes length (MAX_RANDOM_BYTES)', () => {
      for (const n of [-1, 1.5, MAX_RANDOM_BYTES + 1, Number.NaN]) {
        assert.throws(() => b.randomBytes(n), (e: unknown) => (e as { code?: string }).code === 'BAD_INPUT');
      }
      assert.equal(b.randomBytes(MAX_RANDOM_BYTES).length, MAX_RANDOM_BYTES);
    });

    it('ML-KEM lengths and the FIPS 203 section 7.2 modulus check', async () => {
      await rejectsWith(b.mlKem1024GenerateKeyPair(z(63)), 'BAD_KEY_LENGTH');
      await rejectsWith(b.mlKem1024Encapsulate(z(1567)), 'BAD_KEY_LENGTH');
      await rejectsWith(b.mlKem1024Encapsulate(z(MLKEM1024_PUBLIC_KEY_BYTES), z(31)), 'BAD_KEY_LENGTH');
      await rejectsWith(b.mlKem1024Decapsulate(z(1568), z(3167)), 'BAD_KEY_LENGTH');
      // All 12-bit coefficients = 4095 >= q = 3329: not a valid encapsulation key.
      await rejectsWith(b.mlKem1024Encapsulate(z(MLKEM1024_PUBLIC_KEY_BYTES).fill(0xff)), 'BAD_INPUT');
    });
  });
}

describe('error model', () => {
  it('has a closed list of codes', () => {
    assert.deepEqual([...CRYPTO_ERROR_CODES].sort(), ['BAD_INPUT', 'BAD_KEY_LENGTH', 'BAD_NONCE_LENGTH', 'BAD_TAG', 'LOW_ORDER_POINT']);
  });
});
