/**
 * Per-chunk authenticated encryption of attachments (docs/attachments.md), in the spirit of the
 * STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizar 2015): one key, a nonce made of the
 * chunk index and a "last chunk" flag, so a chunk moved to another position, a stream cut after
 * a non-final chunk, or a chunk appended after the final one fails authentication.
 *
 * chunkKey = HKDF-SHA256(ikm = attachment key, salt = empty, info = CHUNK_KEY_INFO, 32)
 * nonce    = 0x00 * 7 || index u32 BE || final u8 (0 or 1)
 * aad      = AAD_PREFIX || plaintextSize u64 BE       (binds the declared size)
 *
 * The attachment key is fresh for every attachment and never reused, so the fixed nonce
 * sequence never repeats under one key. A resumed upload re-encrypts the same plaintext with
 * the same nonce (identical ciphertext); upload.node.ts refuses to resume if the file changed.
 */
import { utf8 } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { ATTACHMENT_KEY_BYTES, ATTACHMENT_TAG_BYTES, chunkCount, chunkPlaintextLength } from './format.js';

const CHUNK_KEY_INFO = utf8.encode('pigeon/attachment/v1/chunk-key');
const AAD_PREFIX = utf8.encode('pigeon/attachment/v1');

export async function deriveChunkKey(crypto: CryptoBackend, attachmentKey: Uint8Array): Promise<Uint8Array> {
  if (attachmentKey.length !== ATTACHMENT_KEY_BYTES) throw new ClientError('BAD_ARGUMENT', 'attachment key must be 32 bytes');
  return crypto.hkdfSha256(attachmentKey, new Uint8Array(0), CHUNK_KEY_INFO, 32);
}

export function chunkNonce(index: number, final: boolean): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new ClientError('BAD_ARGUMENT', 'chunk index out of range');
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

export function chunkAad(plaintextSize: number): Uint8Array {
  const aad = new Uint8Array(AAD_PREFIX.length + 8);
  aad.set(AAD_PREFIX, 0);
  new DataView(aad.buffer).setBigUint64(AAD_PREFIX.length, BigInt(plaintextSize));
  return aad;
}

/** Encrypts and decrypts the chunks of one attachment. */
export class ChunkCipher {
  readonly chunks: number;
  readonly #aad: Uint8Array;
  readonly #key: Uint8Array;

  private constructor(
    private readonly crypto: CryptoBackend,
    key: Uint8Array,
    readonly plaintextSize: number,
  ) {
    this.#key = key;
    this.chunks = chunkCount(plaintextSize);
    this.#aad = chunkAad(plaintextSize);
  }

  static async create(crypto: CryptoBackend, attachmentKey: Uint8Array, plaintextSize: number): Promise<ChunkCipher> {
    if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0) throw new ClientError('BAD_ARGUMENT', 'bad plaintext size');
    return new ChunkCipher(crypto, await deriveChunkKey(crypto, attachmentKey), plaintextSize);
  }

  encrypt(index: number, plaintext: Uint8Array): Promise<Uint8Array> {
    if (index >= this.chunks || plaintext.length !== chunkPlaintextLength(this.plaintextSize, index)) {
      throw new ClientError('BAD_ARGUMENT', 'chunk does not match the layout');
    }
    return this.crypto.aes256GcmEncrypt(this.#key, chunkNonce(index, index === this.chunks - 1), plaintext, this.#aad);
  }

  /** Throws ClientError ATTACHMENT_TAMPERED when the chunk does not authenticate at this position. */
  async decrypt(index: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (index >= this.chunks || ciphertext.length !== chunkPlaintextLength(this.plaintextSize, index) + ATTACHMENT_TAG_BYTES) {
      throw new ClientError('ATTACHMENT_TAMPERED', 'chunk has the wrong length');
    }
    try {
      return await this.crypto.aes256GcmDecrypt(this.#key, chunkNonce(index, index === this.chunks - 1), ciphertext, this.#aad);
    } catch (cause) {
      throw new ClientError('ATTACHMENT_TAMPERED', `chunk ${index} does not authenticate`, { cause });
    }
  }

  toJSON(): unknown {
    return { type: 'ChunkCipher', chunks: this.chunks };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): unknown {
    return this.toJSON();
  }
}
