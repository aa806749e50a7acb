/**
 * Backend on WebCrypto (`globalThis.crypto.subtle`), for browsers and any runtime that has it.
 * Platform-neutral: no Node imports, no DOM types (the few WebCrypto shapes used are declared
 * below). Must give the same results and CryptoError codes as the noble reference.
 *
 * SHA-2, HMAC, HKDF and AES-GCM are in every WebCrypto. X25519 and Ed25519 arrived late and
 * differ between engines, so each is probed once (known-answer test, plus a strictness check for
 * Ed25519) and falls back to noble when the probe fails. ML-KEM is always noble.
 */
import { createNobleBackend, isVerifiable } from './backend-noble.js';
import { fromHex, toHex } from './bytes.js';
import {
  SHA256_BYTES,
  SHA512_BYTES,
  OPENSSL_HKDF_MAX_INFO_BYTES,
  checkAesInputs,
  checkBytes,
  checkHkdfInputs,
  checkLength,
  checkRandomLength,
} from './checks.js';
import { isAcceptableEd25519PublicKey } from './ed25519-strict.js';
import { CryptoError } from './errors.js';
import type { CryptoBackend, KeyPair } from './types.js';

/** The slice of the WebCrypto API this file uses (structural, so no DOM lib is needed). */
type Usage = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'deriveBits';
type Algorithm = string | { readonly name: string; readonly [param: string]: unknown };
interface WebCryptoKey {
  readonly type: string;
}
export interface SubtleLike {
  digest(algorithm: Algorithm, data: Uint8Array): Promise<ArrayBuffer>;
  importKey(format: 'raw' | 'pkcs8' | 'spki', keyData: Uint8Array, algorithm: Algorithm, extractable: boolean, usages: Usage[]): Promise<WebCryptoKey>;
  exportKey(format: 'jwk', key: WebCryptoKey): Promise<{ readonly x?: string }>;
  sign(algorithm: Algorithm, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: Algorithm, key: WebCryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
  encrypt(algorithm: Algorithm, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: Algorithm, key: WebCryptoKey, data: Uint8Array): Promise<ArrayBuffer>;
  deriveBits(algorithm: Algorithm, key: WebCryptoKey, length: number): Promise<ArrayBuffer>;
}
interface CryptoLike {
  readonly subtle?: SubtleLike;
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/** crypto.getRandomValues refuses more than 65,536 bytes per call (WebCrypto section 10.1.1). */
const GET_RANDOM_VALUES_MAX_BYTES = 65536;
const RAW_KEY_BYTES = 32;
const GCM_TAG_BITS = 128;
const X25519_PKCS8_PREFIX = fromHex('302e020100300506032b656e04220420');
const ED25519_PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
/** RFC 7748 section 4.1: the base point u = 9; X25519(k, 9) is the public key of k. */
const X25519_BASE_POINT = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : 0));

export function webCryptoGlobal(): CryptoLike | undefined {
  const c = (globalThis as { crypto?: CryptoLike }).crypto;
  return c !== undefined && typeof c.getRandomValues === 'function' && c.subtle !== undefined ? c : undefined;
}

function withPrefix(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const der = new Uint8Array(prefix.length + key.length);
  der.set(prefix);
  der.set(key, prefix.length);
  return der;
}

function base64UrlToBytes(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

/**
 * HMAC pads its key with zeros to the block size (RFC 2104 section 2), so an empty key equals a
 * one-byte zero key. WebCrypto refuses zero-length HMAC keys; this keeps HMAC and HKDF's empty
 * salt (RFC 5869 section 2.2: HashLen zeros) working.
 */
function nonEmptyHmacKey(key: Uint8Array): Uint8Array {
  return key.length === 0 ? new Uint8Array(1) : key;
}

// Known answers: RFC 7748 section 6.1 and RFC 8032 section 7.1 TEST 1, plus TEST 1 with S + L,
// which a strict (RFC 8032 section 5.1.7) verifier must reject.
const PROBE = {
  x25519Secret: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  x25519Peer: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  x25519Shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  ed25519Seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  ed25519Public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  ed25519Signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
} as const;
/** Group order L (RFC 8032 section 5.1), little-endian. */
const ED25519_ORDER_LE = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

function addLittleEndian(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  let carry = 0;
  for (let i = 0; i < a.length; i++) {
    const sum = a[i]! + b[i]! + carry;
    out[i] = sum & 0xff;
    carry = sum >> 8;
  }
  return out;
}

export function createWebCryptoBackend(): CryptoBackend {
  const cryptoApi = webCryptoGlobal();
  if (cryptoApi === undefined) throw new CryptoError('BAD_INPUT', 'WebCrypto (globalThis.crypto.subtle) is not available');
  const subtle = cryptoApi.subtle!;
  const noble = createNobleBackend();

  // --- raw operations (inputs already checked) ---
  async function x25519Raw(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
    const der = withPrefix(X25519_PKCS8_PREFIX, secretKey);
    let priv: WebCryptoKey;
    try {
      priv = await subtle.importKey('pkcs8', der, { name: 'X25519' }, false, ['deriveBits']);
    } finally {
      der.fill(0);
    }
    const pub = await subtle.importKey('raw', publicKey, { name: 'X25519' }, true, []);
    return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: pub }, priv, 256));
  }
  async function ed25519PrivateKey(seed: Uint8Array, extractable: boolean): Promise<WebCryptoKey> {
    const der = withPrefix(ED25519_PKCS8_PREFIX, seed);
    try {
      return await subtle.importKey('pkcs8', der, { name: 'Ed25519' }, extractable, ['sign']);
    } finally {
      der.fill(0);
    }
  }
  async function ed25519PublicRaw(seed: Uint8Array): Promise<Uint8Array> {
    const jwk = await subtle.exportKey('jwk', await ed25519PrivateKey(seed, true));
    if (jwk.x === undefined) throw new Error('Ed25519 JWK export without x');
    return base64UrlToBytes(jwk.x);
  }
  async function ed25519SignRaw(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, await ed25519PrivateKey(seed, false), message));
  }
  async function ed25519VerifyRaw(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    return subtle.verify({ name: 'Ed25519' }, key, signature, message);
  }

  // --- run-time capability probes, each run once on first use ---
  let x25519Probe: Promise<boolean> | undefined;
  let ed25519Probe: Promise<boolean> | undefined;
  const hasX25519 = (): Promise<boolean> =>
    (x25519Probe ??= x25519Raw(fromHex(PROBE.x25519Secret), fromHex(PROBE.x25519Peer)).then(
      (shared) => toHex(shared) === PROBE.x25519Shared,
      () => false,
    ));
  const hasEd25519 = (): Promise<boolean> =>
    (ed25519Probe ??= (async () => {
      const seed = fromHex(PROBE.ed25519Seed);
      const pub = await ed25519PublicRaw(seed);
      const sig = await ed25519SignRaw(seed, new Uint8Array(0));
      const malleated = sig.slice();
      malleated.set(addLittleEndian(sig.subarray(32), ED25519_ORDER_LE), 32);
      return (
        toHex(pub) === PROBE.ed25519Public &&
        toHex(sig) === PROBE.ed25519Signature &&
        (await ed25519VerifyRaw(pub, new Uint8Array(0), sig)) &&
        !(await ed25519VerifyRaw(pub, new Uint8Array(0), malleated))
      );
    })().catch(() => false));

  async function hmacRaw(hashName: string, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    const k = await subtle.importKey('raw', nonEmptyHmacKey(key), { name: 'HMAC', hash: hashName }, false, ['sign']);
    return new Uint8Array(await subtle.sign('HMAC', k, data));
  }
  async function hkdfRaw(hashName: string, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array> {
    const k = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
    const params = { name: 'HKDF', hash: hashName, salt: nonEmptyHmacKey(salt), info };
    return new Uint8Array(await subtle.deriveBits(params, k, length * 8));
  }

  const backend: CryptoBackend = {
    name: 'webcrypto',
    randomBytes(length) {
      checkRandomLength(length);
      const out = new Uint8Array(length);
      for (let offset = 0; offset < length; offset += GET_RANDOM_VALUES_MAX_BYTES) {
        cryptoApi.getRandomValues(out.subarray(offset, Math.min(length, offset + GET_RANDOM_VALUES_MAX_BYTES)));
      }
      return out;
    },
    async sha256(data) {
      checkBytes(data, 'SHA-256 input');
      return new Uint8Array(await subtle.digest('SHA-256', data));
    },
    async sha512(data) {
      checkBytes(data, 'SHA-512 input');
      return new Uint8Array(await subtle.digest('SHA-512', data));
    },
    async hmacSha256(key, data) {
      checkBytes(key, 'HMAC key');
      checkBytes(data, 'HMAC input');
      return hmacRaw('SHA-256', key, data);
    },
    async hmacSha512(key, data) {
      checkBytes(key, 'HMAC key');
      checkBytes(data, 'HMAC input');
      return hmacRaw('SHA-512', key, data);
    },
    async hkdfSha256(ikm, salt, info, length) {
      checkHkdfInputs(ikm, salt, info, length, SHA256_BYTES);
      if (info.length > OPENSSL_HKDF_MAX_INFO_BYTES) return noble.hkdfSha256(ikm, salt, info, length); // Node's WebCrypto
      return hkdfRaw('SHA-256', ikm, salt, info, length);
    },
    async hkdfSha512(ikm, salt, info, length) {
      checkHkdfInputs(ikm, salt, info, length, SHA512_BYTES);
      if (info.length > OPENSSL_HKDF_MAX_INFO_BYTES) return noble.hkdfSha512(ikm, salt, info, length); // Node's WebCrypto
      return hkdfRaw('SHA-512', ikm, salt, info, length);
    },

    async aes256GcmEncrypt(key, nonce, plaintext, aad) {
      checkAesInputs(key, nonce, plaintext, aad);
      const k = await subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
      const params = { name: 'AES-GCM', iv: nonce, additionalData: aad ?? new Uint8Array(0), tagLength: GCM_TAG_BITS };
      return new Uint8Array(await subtle.encrypt(params, k, plaintext));
    },
    async aes256GcmDecrypt(key, nonce, ciphertext, aad) {
      checkAesInputs(key, nonce, ciphertext, aad);
      const k = await subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
      const params = { name: 'AES-GCM', iv: nonce, additionalData: aad ?? new Uint8Array(0), tagLength: GCM_TAG_BITS };
      try {
        return new Uint8Array(await subtle.decrypt(params, k, ciphertext));
      } catch (cause) {
        throw new CryptoError('BAD_TAG', 'AES-GCM authentication failed', { cause });
      }
    },

    async x25519GenerateKeyPair(): Promise<KeyPair> {
      const secretKey = backend.randomBytes(RAW_KEY_BYTES);
      return { secretKey, publicKey: await backend.x25519PublicKey(secretKey) };
    },
    async x25519PublicKey(secretKey) {
      checkLength(secretKey, RAW_KEY_BYTES, 'X25519 secret key');
      if (!(await hasX25519())) return noble.x25519PublicKey(secretKey);
      return x25519Raw(secretKey, X25519_BASE_POINT);
    },
    async x25519(secretKey, publicKey) {
      checkLength(secretKey, RAW_KEY_BYTES, 'X25519 secret key');
      checkLength(publicKey, RAW_KEY_BYTES, 'X25519 public key');
      if (await hasX25519()) {
        try {
          return await x25519Raw(secretKey, publicKey);
        } catch {
          // Engines refuse an all-zero result (and some refuse odd public keys): let the
          // reference decide, so the outcome (value or LOW_ORDER_POINT) matches every backend.
        }
      }
      return noble.x25519(secretKey, publicKey);
    },

    async ed25519GenerateKeyPair(): Promise<KeyPair> {
      const secretKey = backend.randomBytes(RAW_KEY_BYTES);
      return { secretKey, publicKey: await backend.ed25519PublicKey(secretKey) };
    },
    async ed25519PublicKey(secretKey) {
      checkLength(secretKey, RAW_KEY_BYTES, 'Ed25519 secret key');
      if (!(await hasEd25519())) return noble.ed25519PublicKey(secretKey);
      return ed25519PublicRaw(secretKey);
    },
    async ed25519Sign(secretKey, message) {
      checkLength(secretKey, RAW_KEY_BYTES, 'Ed25519 secret key');
      checkBytes(message, 'Ed25519 message');
      if (!(await hasEd25519())) return noble.ed25519Sign(secretKey, message);
      return ed25519SignRaw(secretKey, message);
    },
    async ed25519Verify(publicKey, message, signature) {
      if (!isVerifiable(publicKey, message, signature) || !isAcceptableEd25519PublicKey(publicKey)) return false;
      if (!(await hasEd25519())) return noble.ed25519Verify(publicKey, message, signature);
      try {
        return await ed25519VerifyRaw(publicKey, message, signature);
      } catch {
        return false; // A does not decode
      }
    },

    mlKem1024GenerateKeyPair: noble.mlKem1024GenerateKeyPair,
    mlKem1024Encapsulate: noble.mlKem1024Encapsulate,
    mlKem1024Decapsulate: noble.mlKem1024Decapsulate,
  };
  return backend;
}
