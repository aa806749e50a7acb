/**
 * Sender key KDFs (docs/protocol.md §12.5). The chain steps are the Double Ratchet's KDF_CK
 * (HMAC-SHA-256 with 0x01 for the message key seed, 0x02 for the next chain key), reused from
 * ../ratchet-kdf.ts; the expansion binds the group id and distribution id into the AES key.
 */
import { concatBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { AES_NONCE_BYTES, KEY_BYTES } from '../constants.js';
import type { AeadKeys } from '../ratchet-kdf.js';
import { LABEL_SENDER_KEY_MESSAGE_KEYS } from './constants.js';

export { messageKeyOf, nextChainKey, wipeAeadKeys } from '../ratchet-kdf.js';

const EMPTY = new Uint8Array(0);

export async function expandMessageKeyWith(crypto: CryptoBackend, seed: Uint8Array, groupId: Uint8Array, distributionId: Uint8Array): Promise<AeadKeys> {
  const out = await crypto.hkdfSha256(seed, EMPTY, concatBytes(LABEL_SENDER_KEY_MESSAGE_KEYS, groupId, distributionId), KEY_BYTES + AES_NONCE_BYTES);
  return { key: out.subarray(0, KEY_BYTES), nonce: out.subarray(KEY_BYTES) };
}
