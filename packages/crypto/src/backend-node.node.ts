/**
 * Fast backend on node:crypto (OpenSSL). Must give byte-identical results and the same
 * CryptoError codes as the noble reference; test/ runs every vector against both.
 *
 * Raw 32-byte keys become KeyObjects (JWK import, see below). Importing is a large part of an
 * X25519 call (a private import derives the public key: one scalar multiplication, ~26 us;
 * a public import ~5 us; the agreement itself ~30 us), so each backend instance keeps the
 * KeyObjects of recently used keys in small bounded LRUs:
 * - public keys (X25519, Ed25519) by their bytes, MAX_CACHED_PUBLIC_KEYS per curve;
 * - private keys by SHA-256 of their bytes, at most MAX_CACHED_PRIVATE_KEYS per curve. The
 *   Double Ratchet uses its sending secret twice (the send DH right after generation, the
 *   receive DH when the peer answers), and the record is decoded from bytes in between.
 *   Retention: a cached KeyObject keeps its secret in OpenSSL memory until it is evicted
 *   (after MAX_CACHED_PRIVATE_KEYS newer private keys) and collected, so a ratchet or prekey
 *   secret the protocol has dropped (or wiped in its own array) can outlive it by that many
 *   key uses; the cache id is a hash, so the JS heap holds no extra copy of the secret.
 * Ed25519 verifications that succeeded are remembered by SHA-256 of (key, signature, message),
 * MAX_CACHED_VERIFICATIONS of them: the same device certificate or prekey signature is checked
 * on every session setup and every sealed-sender message. Verification is deterministic, so a
 * remembered success is exactly what a fresh check would return.
 * Public keys come back out as JWK `x`.
 * ML-KEM-1024 is not in Node 20's OpenSSL, so those three functions are the noble ones.
 */
import {
  createCipheriv,
  createHash,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hash,
  hkdfSync,
  randomFillSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { createNobleBackend, isVerifiable } from './backend-noble.js';
import { BoundedLru } from './bounded-lru.js';
import {
  SHA256_BYTES,
  SHA512_BYTES,
  OPENSSL_HKDF_MAX_INFO_BYTES,
  checkAesInputs,
  checkBytes,
  checkHkdfInputs,
  checkLength,
  checkRandomLength,
  isAllZero,
} from './checks.js';
import { isAcceptableEd25519PublicKey } from './ed25519-strict.js';
import { CryptoError } from './errors.js';
import type { CryptoBackend, KeyPair } from './types.js';

const RAW_KEY_BYTES = 32;
/** KeyObjects of public keys kept per curve (public data: the bound is only about memory). */
export const MAX_CACHED_PUBLIC_KEYS = 256;
/** KeyObjects of private keys kept per curve: small, because each one keeps a secret alive. */
export const MAX_CACHED_PRIVATE_KEYS = 16;
/** Successful Ed25519 verifications remembered (by hash, 44 bytes of id each). */
export const MAX_CACHED_VERIFICATIONS = 256;
const GCM_TAG_BYTES = 16;

type OkpCurve = 'X25519' | 'Ed25519';
/**
 * Node's JWK import requires `x` for an OKP private key but does not use it: OpenSSL derives the
 * public half from `d` (EVP_PKEY_new_raw_private_key). A fixed placeholder avoids computing it;
 * the self-test and the cross-backend tests would catch a Node that started to trust `x`.
 */
const PLACEHOLDER_X = 'A'.repeat(43); // 32 zero bytes, base64url without padding

function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/*
 * Raw keys enter OpenSSL as JWK (RFC 8037 OKP keys). This is ~10x faster than the equivalent
 * PKCS#8/SPKI DER (RFC 8410) import, which goes through OpenSSL's generic decoder chain
 * (measured on Node 20: ~1.7k vs ~16k private-key imports per second).
 */
function importPrivateKey(crv: OkpCurve, secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv, d: base64Url(secretKey), x: PLACEHOLDER_X }, format: 'jwk' });
}

/** Recently used KeyObjects of one backend instance (see the file comment for what is kept and why). */
class KeyObjects {
  private readonly publicKeys = { X25519: new BoundedLru<KeyObject>(MAX_CACHED_PUBLIC_KEYS), Ed25519: new BoundedLru<KeyObject>(MAX_CACHED_PUBLIC_KEYS) };
  private readonly privateKeys = { X25519: new BoundedLru<KeyObject>(MAX_CACHED_PRIVATE_KEYS), Ed25519: new BoundedLru<KeyObject>(MAX_CACHED_PRIVATE_KEYS) };
  private readonly verified = new BoundedLru<true>(MAX_CACHED_VERIFICATIONS);

  privateKey(crv: OkpCurve, secretKey: Uint8Array): KeyObject {
    // Content-addressed: a caller that changes or wipes its array simply misses.
    const id = hash('sha256', secretKey, 'base64');
    const cache = this.privateKeys[crv];
    let key = cache.get(id);
    if (key === undefined) {
      key = importPrivateKey(crv, secretKey);
      cache.set(id, key);
    }
    return key;
  }

  publicKey(crv: OkpCurve, publicKey: Uint8Array): KeyObject {
    const id = base64Url(publicKey);
    const cache = this.publicKeys[crv];
    let key = cache.get(id);
    if (key === undefined) {
      key = createPublicKey({ key: { kty: 'OKP', crv, x: id }, format: 'jwk' }); // throws for a non-point; nothing cached
      cache.set(id, key);
    }
    return key;
  }

  /** Id of an Ed25519 verification: key and signature have fixed lengths, so the concatenation is unambiguous. */
  static verificationId(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string {
    return createHash('sha256').update(publicKey).update(signature).update(message).digest('base64');
  }

  wasVerified(id: string): boolean {
    return this.verified.get(id) === true;
  }

  rememberVerified(id: string): void {
    this.verified.set(id, true);
  }
}

/**
 * The raw public key is the JWK `x` member (RFC 8037 section 2). Exporting JWK is ~2 us in
 * Node 20, SPKI DER ~55 us (the same generic encoder chain as DER import).
 */
function rawPublicKey(key: KeyObject): Uint8Array {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new CryptoError('BAD_INPUT', 'public key export has no x');
  return owned(Buffer.from(x, 'base64url'));
}

/**
 * Return a plain Uint8Array (never a Buffer: Buffer#slice shares memory, and deepEqual tells
 * them apart). Small Buffers live in a shared pool; a view would expose the pool through
 * `.buffer`, so those are copied.
 */
function owned(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}

function randomFill(length: number): Uint8Array {
  return randomFillSync(new Uint8Array(length));
}

function x25519PublicFromSecret(keys: KeyObjects, secretKey: Uint8Array): Uint8Array {
  return rawPublicKey(createPublicKey(keys.privateKey('X25519', secretKey)));
}

function ed25519PublicFromSeed(keys: KeyObjects, seed: Uint8Array): Uint8Array {
  return rawPublicKey(createPublicKey(keys.privateKey('Ed25519', seed)));
}

function x25519Shared(keys: KeyObjects, secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = diffieHellman({
      privateKey: keys.privateKey('X25519', secretKey),
      publicKey: keys.publicKey('X25519', publicKey),
    });
  } catch (cause) {
    // OpenSSL refuses to derive an all-zero secret (RFC 7748 section 6.1); lengths were checked above,
    // so that is the only way to get here.
    throw new CryptoError('LOW_ORDER_POINT', 'X25519 produced an all-zero shared secret', { cause });
  }
  if (isAllZero(shared)) throw new CryptoError('LOW_ORDER_POINT', 'X25519 produced an all-zero shared secret');
  return owned(shared);
}

function ed25519Signature(keys: KeyObjects, seed: Uint8Array, message: Uint8Array): Uint8Array {
  return owned(sign(null, message, keys.privateKey('Ed25519', seed)));
}

function ed25519Check(keys: KeyObjects, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!isVerifiable(publicKey, message, signature) || !isAcceptableEd25519PublicKey(publicKey)) return false;
  const id = KeyObjects.verificationId(publicKey, message, signature);
  if (keys.wasVerified(id)) return true;
  let ok: boolean;
  try {
    // OpenSSL enforces S < L (RFC 8032 section 5.1.7) and compares the canonical encoding of R.
    ok = verify(null, message, keys.publicKey('Ed25519', publicKey), signature);
  } catch {
    return false; // e.g. A does not decode to a curve point
  }
  if (ok) keys.rememberVerified(id);
  return ok;
}

function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final(); // always empty for GCM, but required to compute the tag
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(body.length + tail.length + tag.length);
  out.set(body);
  out.set(tail, body.length);
  out.set(tag, body.length + tail.length);
  return out;
}

function gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
  if (ciphertext.length < GCM_TAG_BYTES) throw new CryptoError('BAD_TAG', 'AES-GCM ciphertext is shorter than its tag');
  const split = ciphertext.length - GCM_TAG_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(ciphertext.subarray(split));
  if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
  const body = decipher.update(ciphertext.subarray(0, split));
  let tail: Uint8Array;
  try {
    tail = decipher.final();
  } catch (cause) {
    body.fill(0); // unauthenticated plaintext must not escape
    throw new CryptoError('BAD_TAG', 'AES-GCM authentication failed', { cause });
  }
  if (tail.length === 0) return owned(body);
  const out = new Uint8Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}

export function createNodeBackend(): CryptoBackend {
  const noble = createNobleBackend();
  const keys = new KeyObjects();
  return {
    name: 'node',
    randomBytes(length) {
      checkRandomLength(length);
      return randomFill(length);
    },
    async sha256(data) {
      checkBytes(data, 'SHA-256 input');
      return owned(hash('sha256', data, 'buffer'));
    },
    async sha512(data) {
      checkBytes(data, 'SHA-512 input');
      return owned(hash('sha512', data, 'buffer'));
    },
    async hmacSha256(key, data) {
      checkBytes(key, 'HMAC key');
      checkBytes(data, 'HMAC input');
      return owned(createHmac('sha256', key).update(data).digest());
    },
    async hmacSha512(key, data) {
      checkBytes(key, 'HMAC key');
      checkBytes(data, 'HMAC input');
      return owned(createHmac('sha512', key).update(data).digest());
    },
    // RFC 5869 section 2.2: an empty salt means HashLen zero bytes. HMAC zero-pads its key to the
    // block size (RFC 2104 section 2), so OpenSSL's empty-key HMAC is exactly that; vectors check it.
    async hkdfSha256(ikm, salt, info, length) {
      checkHkdfInputs(ikm, salt, info, length, SHA256_BYTES);
      if (info.length > OPENSSL_HKDF_MAX_INFO_BYTES) return noble.hkdfSha256(ikm, salt, info, length);
      return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
    },
    async hkdfSha512(ikm, salt, info, length) {
      checkHkdfInputs(ikm, salt, info, length, SHA512_BYTES);
      if (info.length > OPENSSL_HKDF_MAX_INFO_BYTES) return noble.hkdfSha512(ikm, salt, info, length);
      return new Uint8Array(hkdfSync('sha512', ikm, salt, info, length));
    },

    async aes256GcmEncrypt(key, nonce, plaintext, aad) {
      checkAesInputs(key, nonce, plaintext, aad);
      return gcmEncrypt(key, nonce, plaintext, aad);
    },
    async aes256GcmDecrypt(key, nonce, ciphertext, aad) {
      checkAesInputs(key, nonce, ciphertext, aad);
      return gcmDecrypt(key, nonce, ciphertext, aad);
    },

    async x25519GenerateKeyPair(): Promise<KeyPair> {
      const secretKey = randomFill(RAW_KEY_BYTES);
      return { secretKey, publicKey: x25519PublicFromSecret(keys, secretKey) };
    },
    async x25519PublicKey(secretKey) {
      checkLength(secretKey, RAW_KEY_BYTES, 'X25519 secret key');
      return x25519PublicFromSecret(keys, secretKey);
    },
    async x25519(secretKey, publicKey) {
      checkLength(secretKey, RAW_KEY_BYTES, 'X25519 secret key');
      checkLength(publicKey, RAW_KEY_BYTES, 'X25519 public key');
      return x25519Shared(keys, secretKey, publicKey);
    },

    async ed25519GenerateKeyPair(): Promise<KeyPair> {
      const secretKey = randomFill(RAW_KEY_BYTES);
      return { secretKey, publicKey: ed25519PublicFromSeed(keys, secretKey) };
    },
    async ed25519PublicKey(secretKey) {
      checkLength(secretKey, RAW_KEY_BYTES, 'Ed25519 secret key');
      return ed25519PublicFromSeed(keys, secretKey);
    },
    async ed25519Sign(secretKey, message) {
      checkLength(secretKey, RAW_KEY_BYTES, 'Ed25519 secret key');
      checkBytes(message, 'Ed25519 message');
      return ed25519Signature(keys, secretKey, message);
    },
    async ed25519Verify(publicKey, message, signature) {
      return ed25519Check(keys, publicKey, message, signature);
    },

    mlKem1024GenerateKeyPair: noble.mlKem1024GenerateKeyPair,
    mlKem1024Encapsulate: noble.mlKem1024Encapsulate,
    mlKem1024Decapsulate: noble.mlKem1024Decapsulate,
  };
}

// RFC 7748 section 6.1 (Alice's secret, Bob's public, shared) and RFC 8032 section 7.1 TEST 1.
const SELF_TEST = {
  x25519Secret: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  x25519Peer: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  x25519Shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  ed25519Seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  ed25519Public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  ed25519Signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
} as const;

/**
 * Known-answer check of node:crypto's X25519 and Ed25519 (an OpenSSL built without them, or a
 * FIPS provider that refuses them, fails here). Synchronous so `defaultBackend()` can stay sync.
 */
export function nodeBackendSelfTest(): boolean {
  const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
  const same = (a: Uint8Array, b: string): boolean => Buffer.from(a).toString('hex') === b;
  const keys = new KeyObjects(); // a fresh instance: the self-test must exercise the imports
  try {
    const shared = x25519Shared(keys, hex(SELF_TEST.x25519Secret), hex(SELF_TEST.x25519Peer));
    const pub = ed25519PublicFromSeed(keys, hex(SELF_TEST.ed25519Seed));
    const sig = ed25519Signature(keys, hex(SELF_TEST.ed25519Seed), new Uint8Array(0));
    return (
      same(shared, SELF_TEST.x25519Shared) &&
      same(pub, SELF_TEST.ed25519Public) &&
      same(sig, SELF_TEST.ed25519Signature) &&
      ed25519Check(keys, pub, new Uint8Array(0), sig)
    );
  } catch {
    return false;
  }
}
