import { CryptoError } from './errors.js';

export function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('BAD_INPUT', `${what} must be a Uint8Array`);
  if (bytes.length !== expected) {
    throw new CryptoError('BAD_KEY_LENGTH', `${what} must be ${expected} bytes, got ${bytes.length}`);
  }
}

export function checkAesInputs(key: Uint8Array, nonce: Uint8Array): void {
  checkLength(key, 32, 'AES-256 key');
  if (nonce.length !== 12) throw new CryptoError('BAD_NONCE_LENGTH', `AES-GCM nonce must be 12 bytes, got ${nonce.length}`);
}

/** Constant-time with respect to the contents (not the length). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}
