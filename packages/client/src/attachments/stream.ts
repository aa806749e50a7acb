/**
 * Streaming encryption and decryption of attachment blobs, sans-IO: the encryptor reads
 * plaintext through a small random-access interface and yields ciphertext from any offset (so a
 * resumed upload restarts mid-blob); the decryptor is fed ciphertext as it arrives and returns
 * plaintext chunk by chunk. Neither ever holds more than one chunk.
 */
import { ClientError } from '../errors.js';
import type { ChunkCipher } from './chunk-crypto.js';
import { ATTACHMENT_CHUNK_BYTES, ATTACHMENT_CHUNK_CIPHERTEXT_BYTES, ATTACHMENT_TAG_BYTES, chunkPlaintextLength, encryptedSize } from './format.js';

export interface RandomAccessSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (throws if it cannot). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Incremental SHA-256 (node:crypto in Node, a WebCrypto-less fallback elsewhere). */
export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

const ZEROS = new Uint8Array(1024 * 1024);

/** Chunks read and encrypted per step: one file read and one yielded buffer per ~1 MiB. */
export const CHUNKS_PER_BATCH = 16;

/** Ciphertext bytes [from, to) of the blob: encrypted chunks, then zero padding up to blobSize. */
export async function* blobBytes(cipher: ChunkCipher, source: RandomAccessSource, blobSize: number, from: number, to = blobSize): AsyncGenerator<Uint8Array> {
  if (source.size !== cipher.plaintextSize) throw new ClientError('BAD_ARGUMENT', 'source size does not match');
  const encrypted = encryptedSize(cipher.plaintextSize);
  let at = from;
  while (at < Math.min(to, encrypted)) {
    const first = Math.floor(at / ATTACHMENT_CHUNK_CIPHERTEXT_BYTES);
    const end = Math.min(cipher.chunks, first + CHUNKS_PER_BATCH);
    const plainStart = first * ATTACHMENT_CHUNK_BYTES;
    const plainEnd = Math.min(cipher.plaintextSize, end * ATTACHMENT_CHUNK_BYTES);
    const plain = await source.read(plainStart, plainEnd - plainStart);
    const out = new Uint8Array(plainEnd - plainStart + (end - first) * ATTACHMENT_TAG_BYTES);
    let o = 0;
    for (let i = first; i < end; i++) {
      const p = (i - first) * ATTACHMENT_CHUNK_BYTES;
      const sealed = await cipher.encrypt(i, plain.subarray(p, p + chunkPlaintextLength(cipher.plaintextSize, i)));
      out.set(sealed, o);
      o += sealed.length;
    }
    const batchStart = first * ATTACHMENT_CHUNK_CIPHERTEXT_BYTES;
    const piece = out.subarray(at - batchStart, Math.min(out.length, to - batchStart));
    at += piece.length;
    yield piece;
  }
  while (at < to) {
    const n = Math.min(ZEROS.length, to - at);
    at += n;
    yield ZEROS.subarray(0, n);
  }
}

/** Feeds on blob bytes in order; returns plaintext as each chunk authenticates. */
export class BlobDecryptor {
  /** Blob bytes consumed so far (where a resumed download continues). */
  received = 0;
  private index = 0;
  private readonly buffer = new Uint8Array(ATTACHMENT_CHUNK_CIPHERTEXT_BYTES);
  private filled = 0;
  private readonly encrypted: number;

  constructor(
    private readonly cipher: ChunkCipher,
    readonly blobSize: number,
    private readonly hash: IncrementalHash | null,
  ) {
    this.encrypted = encryptedSize(cipher.plaintextSize);
    if (blobSize < this.encrypted) throw new ClientError('ATTACHMENT_TAMPERED', 'blob smaller than its chunks');
  }

  private chunkLength(): number {
    return chunkPlaintextLength(this.cipher.plaintextSize, this.index) + ATTACHMENT_TAG_BYTES;
  }

  async push(bytes: Uint8Array): Promise<Uint8Array[]> {
    if (this.received + bytes.length > this.blobSize) throw new ClientError('ATTACHMENT_TAMPERED', 'more bytes than the blob holds');
    this.hash?.update(bytes);
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (this.received >= this.encrypted) {
        // Padding: zeros only (its bytes are also covered by the blob digest).
        for (let i = at; i < bytes.length; i++) if (bytes[i] !== 0) throw new ClientError('ATTACHMENT_TAMPERED', 'padding is not zero');
        this.received += bytes.length - at;
        break;
      }
      const want = this.chunkLength() - this.filled;
      const take = Math.min(want, bytes.length - at);
      this.buffer.set(bytes.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      this.received += take;
      if (this.filled === this.chunkLength()) {
        out.push(await this.cipher.decrypt(this.index, this.buffer.subarray(0, this.filled)));
        this.index++;
        this.filled = 0;
      }
    }
    return out;
  }

  /** Call after the last byte: checks every chunk arrived and, given a hash, the blob digest. */
  finish(expectedSha256: Uint8Array | null): void {
    if (this.received !== this.blobSize || this.index !== this.cipher.chunks) throw new ClientError('ATTACHMENT_TAMPERED', 'blob is truncated');
    if (expectedSha256 !== null && this.hash !== null) {
      const digest = this.hash.digest();
      let diff = digest.length ^ expectedSha256.length;
      for (let i = 0; i < Math.min(digest.length, expectedSha256.length); i++) diff |= digest[i]! ^ expectedSha256[i]!;
      if (diff !== 0) throw new ClientError('ATTACHMENT_TAMPERED', 'blob digest does not match');
    }
  }
}
