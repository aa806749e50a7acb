/**
 * The attachment ciphertext layout (docs/attachments.md). Platform-neutral arithmetic only.
 *
 *   blob = chunk_0 || chunk_1 || ... || chunk_{n-1} || zero padding
 *   chunk_i = AES-256-GCM(chunkKey, nonce(i, final), plaintext[i*CHUNK .. (i+1)*CHUNK), aad) (+16-byte tag)
 *
 * n = max(1, ceil(plaintextSize / ATTACHMENT_CHUNK_BYTES)); every chunk but the last holds
 * exactly ATTACHMENT_CHUNK_BYTES of plaintext; an empty file is one empty chunk (a tag only).
 * The blob is padded with zeros up to a size bucket (paddedSize), so the relay learns the
 * bucket, not the size.
 */
import { MAX_BLOB_BYTES } from '@pigeon/api';

/** Plaintext bytes per chunk: small enough to stream and to verify ranges, large enough that tags cost 0.02 %. */
export const ATTACHMENT_CHUNK_BYTES = 64 * 1024;
export const ATTACHMENT_TAG_BYTES = 16;
/** Ciphertext bytes of a full chunk. */
export const ATTACHMENT_CHUNK_CIPHERTEXT_BYTES = ATTACHMENT_CHUNK_BYTES + ATTACHMENT_TAG_BYTES;
/** Largest attachment (plaintext): 2 GiB. */
export const MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024 * 1024;
/** Attachment keys are fresh random 32-byte values, one per attachment. */
export const ATTACHMENT_KEY_BYTES = 32;
/** The smallest padding bucket: every attachment is at least this large on the relay. */
export const MIN_PADDED_BYTES = 1024;
/** Buckets grow by 1/PADDING_GROWTH_DIVISOR (5 %) each: at most 5 % overhead, about 300 buckets up to 2 GiB. */
export const PADDING_GROWTH_DIVISOR = 20;

export function chunkCount(plaintextSize: number): number {
  return Math.max(1, Math.ceil(plaintextSize / ATTACHMENT_CHUNK_BYTES));
}

/** Bytes of all encrypted chunks (before padding). */
export function encryptedSize(plaintextSize: number): number {
  return plaintextSize + chunkCount(plaintextSize) * ATTACHMENT_TAG_BYTES;
}

/**
 * The smallest bucket >= size. Buckets: b_0 = MIN_PADDED_BYTES, b_{k+1} = b_k + ceil(b_k / 20).
 * Integer arithmetic only, so every platform computes the same buckets (the relay never needs
 * them; the recipient checks the blob size it was told against this).
 */
export function paddedSize(size: number): number {
  let bucket = MIN_PADDED_BYTES;
  while (bucket < size) bucket += Math.ceil(bucket / PADDING_GROWTH_DIVISOR);
  return bucket;
}

/** Size of the blob for an attachment of `plaintextSize` bytes. */
export function blobSizeFor(plaintextSize: number): number {
  return paddedSize(encryptedSize(plaintextSize));
}

/** Plaintext bytes in chunk `index` (the last one may be short or empty). */
export function chunkPlaintextLength(plaintextSize: number, index: number): number {
  const n = chunkCount(plaintextSize);
  if (index < n - 1) return ATTACHMENT_CHUNK_BYTES;
  return plaintextSize - (n - 1) * ATTACHMENT_CHUNK_BYTES;
}

// The 2 GiB attachment, its tags and its padding fit the relay's wire limit.
if (blobSizeFor(MAX_ATTACHMENT_BYTES) > MAX_BLOB_BYTES) throw new Error('attachment limits inconsistent');
