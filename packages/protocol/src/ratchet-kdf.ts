/**
 * The Double Ratchet KDFs (Signal Double Ratchet spec, section 5.2):
 * - KDF_RK: HKDF-SHA-256 with the root key as salt and the DH output as input key material.
 * - KDF_CK: HMAC-SHA-256 keyed by the chain key, input 0x01 for the message key, 0x02 for the next chain key.
 * - Message key -> AES-256-GCM key and nonce: HKDF-SHA-256 expanded to 32 + 12 bytes.
 *   (Deviation: Signal uses AES-CBC + HMAC with an 80-byte expansion; AES-GCM needs only key and nonce.)
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { AES_NONCE_BYTES, KEY_BYTES, LABEL_MESSAGE_KEYS, LABEL_ROOT_KDF } from './constants.js';

const MESSAGE_KEY_INPUT = Uint8Array.of(0x01);
const CHAIN_KEY_INPUT = Uint8Array.of(0x02);
const EMPTY = new Uint8Array(0);

export async function kdfRootKey(crypto: CryptoBackend, rootKey: Uint8Array, dhOutput: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
  const out = await crypto.hkdfSha256(dhOutput, rootKey, LABEL_ROOT_KDF, 2 * KEY_BYTES);
  return [out.subarray(0, KEY_BYTES), out.subarray(KEY_BYTES)];
}

export function messageKeyOf(crypto: CryptoBackend, chainKey: Uint8Array): Promise<Uint8Array> {
  return crypto.hmacSha256(chainKey, MESSAGE_KEY_INPUT);
}

export function nextChainKey(crypto: CryptoBackend, chainKey: Uint8Array): Promise<Uint8Array> {
  return crypto.hmacSha256(chainKey, CHAIN_KEY_INPUT);
}

export interface AeadKeys {
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
}

/** Zeroes the expanded key and nonce once AES-GCM is done with them (they share one buffer). */
export function wipeAeadKeys(keys: AeadKeys): void {
  keys.key.fill(0);
  keys.nonce.fill(0);
}

export async function expandMessageKey(crypto: CryptoBackend, messageKey: Uint8Array): Promise<AeadKeys> {
  const out = await crypto.hkdfSha256(messageKey, EMPTY, LABEL_MESSAGE_KEYS, KEY_BYTES + AES_NONCE_BYTES);
  return { key: out.subarray(0, KEY_BYTES), nonce: out.subarray(KEY_BYTES) };
}
