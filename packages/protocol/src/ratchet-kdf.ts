/**
 * The Double Ratchet KDFs (Signal Double Ratchet spec, section 5.2):
 * - KDF_RK: HKDF-SHA-256 with the root key as salt and the DH output as input key material.
 * - KDF_CK: HMAC-SHA-256 keyed by the chain key, input 0x01 for the message key, 0x02 for the next chain key.
 * - Message key -> AES-256-GCM key and nonce: the first 32 + 12 bytes of
 *   HMAC-SHA-512(mk, LABEL_MESSAGE_KEYS). (Deviations, docs/protocol.md section 5 and 11: Signal
 *   expands mk with HKDF to 80 bytes for AES-CBC + HMAC. mk is already a uniformly random PRF
 *   output, so HKDF-Extract adds nothing (RFC 5869 section 3.3), and one HMAC block covers the
 *   44 bytes AES-GCM needs: one HMAC call instead of HKDF's three.)
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { AES_NONCE_BYTES, KEY_BYTES, LABEL_MESSAGE_KEYS, LABEL_ROOT_KDF } from './constants.js';

const MESSAGE_KEY_INPUT = Uint8Array.of(0x01);
const CHAIN_KEY_INPUT = Uint8Array.of(0x02);

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

/** AES key || nonce = HMAC-SHA-512(mk, label)[0..44]; the unused 20 bytes are zeroed at once. */
export async function expandMessageKey(crypto: CryptoBackend, messageKey: Uint8Array): Promise<AeadKeys> {
  const block = await crypto.hmacSha512(messageKey, LABEL_MESSAGE_KEYS);
  const end = KEY_BYTES + AES_NONCE_BYTES;
  block.fill(0, end);
  return { key: block.subarray(0, KEY_BYTES), nonce: block.subarray(KEY_BYTES, end) };
}
