/**
 * Pure-JavaScript backend on audited @noble libraries. Works everywhere; the
 * reference the fast paths are tested against.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { CryptoError } from './errors.js';
import {
  SHA256_BYTES,
  SHA512_BYTES,
  checkAesInputs,
  checkBytes,
  checkHkdfInputs,
  checkLength,
  checkRandomLength,
  isAllZero,
} from './checks.js';
import type { CryptoBackend, KeyPair } from './types.js';


const RANDOM_CHUNK_BYTES = 65536;

/** Shape check shared by every backend: anything malformed simply does not verify. */
export function isVerifiable(publicKey: unknown, message: unknown, signature: unknown): boolean {
  return (
    publicKey instanceof Uint8Array &&
    message instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    publicKey.length === 32 &&
    signature.length === 64
  );
}

export function createNobleBackend(): CryptoBackend {
  return {
    name: 'noble',
    randomBytes(length) {
      checkRandomLength(length);
      // crypto.getRandomValues (under noble) takes at most 65,536 bytes per call.
      const out = new Uint8Array(length);
      for (let offset = 0; offset < length; offset += RANDOM_CHUNK_BYTES) {
        out.set(nobleRandomBytes(Math.min(RANDOM_CHUNK_BYTES, length - offset)), offset);
      }
      return out;
    },
    async sha256(data) {
      checkBytes(data, 'SHA-256 input');
      return sha256(data);
    },
    async sha512(data) {
      checkBytes(data, 'SHA-512 input');
      return sha512(data);
    },
    async hmacSha256(key, data) {
      checkBytes(key, 'HMAC key');
      checkBytes(data, 'HMAC input');
      return hmac(sha256, key, data);
    },
    async hmacSha512(key, data) {
      checkBytes(key, 'HMAC key');
      checkBytes(data, 'HMAC input');
      return hmac(sha512, key, data);
    },
    async hkdfSha256(ikm, salt, info, length) {
      checkHkdfInputs(ikm, salt, info, length, SHA256_BYTES);
      return hkdf(sha256, ikm, salt, info, length);
    },
    async hkdfSha512(ikm, salt, info, length) {
      checkHkdfInputs(ikm, salt, info, length, SHA512_BYTES);
      return hkdf(sha512, ikm, salt, info, length);
    },

    async aes256GcmEncrypt(key, nonce, plaintext, aad) {
      checkAesInputs(key, nonce, plaintext, aad);
      return gcm(key, nonce, aad).encrypt(plaintext);
    },
    async aes256GcmDecrypt(key, nonce, ciphertext, aad) {
      checkAesInputs(key, nonce, ciphertext, aad);
      try {
        return gcm(key, nonce, aad).decrypt(ciphertext);
      } catch (cause) {
        throw new CryptoError('BAD_TAG', 'AES-GCM authentication failed', { cause });
      }
    },

    async x25519GenerateKeyPair(): Promise<KeyPair> {
      const secretKey = x25519.utils.randomSecretKey();
      return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
    },
    x25519PublicKey: async (secretKey) => {
      checkLength(secretKey, 32, 'X25519 secret key');
      return x25519.getPublicKey(secretKey);
    },
    async x25519(secretKey, publicKey) {
      checkLength(secretKey, 32, 'X25519 secret key');
      checkLength(publicKey, 32, 'X25519 public key');
      let shared: Uint8Array;
      try {
        shared = x25519.getSharedSecret(secretKey, publicKey);
      } catch (cause) {
        // noble throws on an all-zero result; report it the same way the node backend does.
        throw new CryptoError('LOW_ORDER_POINT', 'X25519 produced an all-zero shared secret', { cause });
      }
      if (isAllZero(shared)) throw new CryptoError('LOW_ORDER_POINT', 'X25519 produced an all-zero shared secret');
      return shared;
    },

    async ed25519GenerateKeyPair(): Promise<KeyPair> {
      const secretKey = ed25519.utils.randomSecretKey();
      return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
    },
    ed25519PublicKey: async (secretKey) => {
      checkLength(secretKey, 32, 'Ed25519 secret key');
      return ed25519.getPublicKey(secretKey);
    },
    ed25519Sign: async (secretKey, message) => {
      checkLength(secretKey, 32, 'Ed25519 secret key');
      checkBytes(message, 'Ed25519 message');
      return ed25519.sign(message, secretKey);
    },
    async ed25519Verify(publicKey, message, signature) {
      if (!isVerifiable(publicKey, message, signature)) return false;
      try {
        // zip215: false gives RFC 8032 / FIPS 186-5 strict verification, matching node:crypto.
        return ed25519.verify(signature, message, publicKey, { zip215: false });
      } catch {
        return false;
      }
    },

    async mlKem1024GenerateKeyPair(seed) {
      if (seed !== undefined) checkLength(seed, 64, 'ML-KEM seed');
      const { publicKey, secretKey } = ml_kem1024.keygen(seed);
      return { publicKey, secretKey };
    },
    async mlKem1024Encapsulate(publicKey, randomness) {
      checkLength(publicKey, 1568, 'ML-KEM-1024 public key');
      if (randomness !== undefined) checkLength(randomness, 32, 'ML-KEM randomness');
      try {
        const { cipherText, sharedSecret } = ml_kem1024.encapsulate(publicKey, randomness);
        return { ciphertext: cipherText, sharedSecret };
      } catch (cause) {
        // FIPS 203 section 7.2 input check (modulus check on the public key).
        throw new CryptoError('BAD_INPUT', 'ML-KEM-1024 public key failed the modulus check', { cause });
      }
    },
    async mlKem1024Decapsulate(ciphertext, secretKey) {
      checkLength(ciphertext, 1568, 'ML-KEM-1024 ciphertext');
      checkLength(secretKey, 3168, 'ML-KEM-1024 secret key');
      try {
        return ml_kem1024.decapsulate(ciphertext, secretKey);
      } catch (cause) {
        throw new CryptoError('BAD_INPUT', 'ML-KEM-1024 secret key failed the hash check', { cause });
      }
    },
  };
}

