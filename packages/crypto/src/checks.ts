import { CryptoError } from './errors.js';

export function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('BAD_INPUT', `${what} must be a Uint8Array`);
  if (bytes.length !== expected) {
    throw new CryptoError('BAD_KEY_LENGTH', `${what} must be ${expected} bytes, got ${bytes.length}`);
  }
}

export function checkAesInputs(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array | undefined): void {
  checkLength(key, 32, 'AES-256 key');
  checkBytes(nonce, 'AES-GCM nonce');
  checkBytes(data, 'AES-GCM input');
  if (aad !== undefined) checkBytes(aad, 'AES-GCM associated data');
  if (nonce.length !== 12) throw new CryptoError('BAD_NONCE_LENGTH', `AES-GCM nonce must be 12 bytes, got ${nonce.length}`);
}

/** Constant-time with respect to the contents (not the length). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/** RFC 5869 section 2.3: L <= 255 * HashLen. A zero-length output is refused as a caller bug. */
export const HKDF_MAX_BLOCKS = 255;
export const SHA256_BYTES = 32;
export const SHA512_BYTES = 64;

export function checkBytes(bytes: unknown, what: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('BAD_INPUT', `${what} must be a Uint8Array`);
}

export function checkHkdfInputs(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
  hashBytes: number,
): void {
  checkBytes(ikm, 'HKDF input key material');
  checkBytes(salt, 'HKDF salt');
  checkBytes(info, 'HKDF info');
  if (!Number.isSafeInteger(length) || length < 1 || length > HKDF_MAX_BLOCKS * hashBytes) {
    throw new CryptoError('BAD_INPUT', `HKDF output length must be 1..${HKDF_MAX_BLOCKS * hashBytes} bytes, got ${length}`);
  }
}

/** Upper bound on one randomBytes call (1 MiB): larger requests are a caller bug, not a need. */
export const MAX_RANDOM_BYTES = 1 << 20;

export function checkRandomLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
    throw new CryptoError('BAD_INPUT', `randomBytes length must be 0..${MAX_RANDOM_BYTES}, got ${length}`);
  }
}

/**
 * OpenSSL refuses HKDF info longer than 1024 bytes (node:crypto, and Node's WebCrypto on top of
 * it); RFC 5869 sets no limit. Backends on OpenSSL hand longer info to noble.
 */
export const OPENSSL_HKDF_MAX_INFO_BYTES = 1024;
