/**
 * Private-key blobs at rest: sealed with AES-256-GCM under a WebCrypto key that is created
 * non-extractable and kept in IndexedDB as a CryptoKey object (structured clone keeps it
 * non-extractable). Script can use the key but never read its bytes, so a copy of the
 * database files alone does not reveal the identity, prekeys or ratchet states.
 * The additional data binds each blob to its row, so blobs cannot be swapped between rows.
 */
import { META, requestResult, transactionDone } from './idb.js';

export const WRAP_KEY_ID = 'wrap-key-v1';
export const IV_BYTES = 12;

export interface SealedBlob {
  readonly iv: Uint8Array;
  readonly ct: Uint8Array;
}

export interface KeyVault {
  seal(plain: Uint8Array, aad: Uint8Array): Promise<SealedBlob>;
  open(blob: SealedBlob, aad: Uint8Array): Promise<Uint8Array>;
}

export function isSealedBlob(v: unknown): v is SealedBlob {
  return typeof v === 'object' && v !== null && (v as SealedBlob).iv instanceof Uint8Array && (v as SealedBlob).ct instanceof Uint8Array;
}

/** Loads the wrapping key from `meta`, creating it (non-extractable) on first use. */
export async function openKeyVault(db: IDBDatabase, subtle: SubtleCrypto, random: (n: number) => Uint8Array): Promise<KeyVault> {
  let key = await requestResult(db.transaction(META, 'readonly').objectStore(META).get(WRAP_KEY_ID) as IDBRequest<CryptoKey | undefined>);
  if (!key) {
    key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const tx = db.transaction(META, 'readwrite');
    // add(), not put(): if another tab created a key first, we fail instead of orphaning its blobs.
    tx.objectStore(META).add(key, WRAP_KEY_ID);
    try {
      await transactionDone(tx);
    } catch {
      key = await requestResult(db.transaction(META, 'readonly').objectStore(META).get(WRAP_KEY_ID) as IDBRequest<CryptoKey | undefined>);
      if (!key) throw new Error('cannot store the wrapping key');
    }
  }
  const k = key;
  return {
    async seal(plain, aad) {
      const iv = random(IV_BYTES);
      const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource }, k, plain as BufferSource));
      return { iv, ct };
    },
    async open(blob, aad) {
      return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: blob.iv as BufferSource, additionalData: aad as BufferSource }, k, blob.ct as BufferSource));
    },
  };
}
