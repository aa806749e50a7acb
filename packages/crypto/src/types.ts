/**
 * The primitives facade every higher layer uses. Two backends implement it
 * (node:crypto / WebCrypto fast path, @noble fallback) and must give identical
 * results; `test/` runs the same vectors against each.
 *
 * All keys are raw bytes:
 * - X25519: 32-byte secret, 32-byte public (RFC 7748).
 * - Ed25519: 32-byte secret seed, 32-byte public, 64-byte signature (RFC 8032, pure Ed25519).
 * - ML-KEM-1024 (FIPS 203): 1568-byte public (encapsulation) key, 3168-byte secret
 *   (decapsulation) key, 1568-byte ciphertext, 32-byte shared secret.
 * - AES-256-GCM: 32-byte key, 12-byte nonce, 16-byte tag appended to the ciphertext.
 *
 * Functions that may be backed by WebCrypto return Promises; callers must not assume
 * synchronous completion.
 */

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface KemEncapsulation {
  readonly ciphertext: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

export type BackendName = 'node' | 'webcrypto' | 'noble';

export interface CryptoBackend {
  readonly name: BackendName;

  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array;

  sha256(data: Uint8Array): Promise<Uint8Array>;
  sha512(data: Uint8Array): Promise<Uint8Array>;
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  hmacSha512(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** RFC 5869. An empty salt means HashLen zero bytes, as the RFC says. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  hkdfSha512(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;

  /** Throws CryptoError('BAD_TAG') when authentication fails. */
  aes256GcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  aes256GcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;

  x25519GenerateKeyPair(): Promise<KeyPair>;
  x25519PublicKey(secretKey: Uint8Array): Promise<Uint8Array>;
  /** Throws CryptoError('LOW_ORDER_POINT') when the result is all zeros (RFC 7748 section 6.1). */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;

  ed25519GenerateKeyPair(): Promise<KeyPair>;
  ed25519PublicKey(secretKey: Uint8Array): Promise<Uint8Array>;
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  /** Returns false (never throws) for any malformed key or signature. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;

  /** `seed` (64 bytes, d || z) makes generation deterministic for test vectors. */
  mlKem1024GenerateKeyPair(seed?: Uint8Array): Promise<KeyPair>;
  /** `randomness` (32 bytes, m) makes encapsulation deterministic for test vectors. */
  mlKem1024Encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Promise<KemEncapsulation>;
  /** Implicit rejection per FIPS 203: a wrong ciphertext yields a pseudo-random secret, not an error. */
  mlKem1024Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
}

export const X25519_KEY_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const MLKEM1024_PUBLIC_KEY_BYTES = 1568;
export const MLKEM1024_SECRET_KEY_BYTES = 3168;
export const MLKEM1024_CIPHERTEXT_BYTES = 1568;
export const MLKEM_SHARED_SECRET_BYTES = 32;
export const AES_KEY_BYTES = 32;
export const AES_GCM_NONCE_BYTES = 12;
export const AES_GCM_TAG_BYTES = 16;
