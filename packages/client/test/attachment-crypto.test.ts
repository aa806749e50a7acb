/** Attachment chunk crypto, layout, padding buckets and the reference codec (docs/attachments.md). */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { MAX_BLOB_BYTES } from '@pigeon/api';
import { defaultBackend, toHex } from '@pigeon/crypto';
import {
  ATTACHMENT_CHUNK_BYTES,
  ATTACHMENT_CHUNK_CIPHERTEXT_BYTES,
  BlobDecryptor,
  ChunkCipher,
  MAX_ATTACHMENT_BYTES,
  MIN_PADDED_BYTES,
  blobBytes,
  blobSizeFor,
  chunkCount,
  decodeContent,
  decodeReference,
  encodeContent,
  encodeReference,
  encryptedSize,
  paddedSize,
  safeFileName,
  ClientError,
  type AttachmentReference,
  type RandomAccessSource,
} from '../src/index.node.js';

const crypto = defaultBackend();

function memorySource(bytes: Uint8Array): RandomAccessSource {
  return { size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(new Uint8Array(p));
  return new Uint8Array(Buffer.concat(parts));
}

function nodeHash() {
  const h = createHash('sha256');
  return { update: (b: Uint8Array) => void h.update(b), digest: () => new Uint8Array(h.digest()) };
}

async function encrypt(plain: Uint8Array, key: Uint8Array = new Uint8Array(randomBytes(32))): Promise<{ blob: Uint8Array; key: Uint8Array }> {
  const cipher = await ChunkCipher.create(crypto, key, plain.length);
  const blob = await collect(blobBytes(cipher, memorySource(plain), blobSizeFor(plain.length), 0));
  return { blob, key };
}

/** Decrypts `blob` as an attachment of `size` plaintext bytes, feeding it in `step`-byte pieces. */
async function decrypt(blob: Uint8Array, key: Uint8Array, size: number, step = 10_000, sha256: Uint8Array | null = null): Promise<Uint8Array> {
  const cipher = await ChunkCipher.create(crypto, key, size);
  const dec = new BlobDecryptor(cipher, blob.length, nodeHash());
  const out: Uint8Array[] = [];
  for (let at = 0; at < blob.length; at += step) out.push(...(await dec.push(blob.subarray(at, at + step))));
  dec.finish(sha256);
  return new Uint8Array(Buffer.concat(out));
}

const tampered = (e: unknown) => e instanceof ClientError && e.code === 'ATTACHMENT_TAMPERED';

describe('attachment chunks', () => {
  it('round-trip at every layout edge, fed in odd piece sizes', async () => {
    for (const size of [0, 1, ATTACHMENT_CHUNK_BYTES - 1, ATTACHMENT_CHUNK_BYTES, ATTACHMENT_CHUNK_BYTES + 1, 3 * ATTACHMENT_CHUNK_BYTES + 77]) {
      const plain = new Uint8Array(randomBytes(size));
      const { blob, key } = await encrypt(plain);
      assert.equal(blob.length, blobSizeFor(size));
      for (const step of [1 + (size % 7), 4096, 70_000]) {
        if (step === 1 + (size % 7) && size > 100_000) continue;
        const sha = new Uint8Array(createHash('sha256').update(blob).digest());
        assert.deepEqual(await decrypt(blob, key, size, step, sha), plain, `size ${size} step ${step}`);
      }
    }
  });

  it('yields the same bytes from any offset (what a resumed upload re-sends)', async () => {
    const plain = new Uint8Array(randomBytes(3 * ATTACHMENT_CHUNK_BYTES + 5));
    const key = new Uint8Array(randomBytes(32));
    const cipher = await ChunkCipher.create(crypto, key, plain.length);
    const size = blobSizeFor(plain.length);
    const whole = await collect(blobBytes(cipher, memorySource(plain), size, 0));
    for (const from of [1, ATTACHMENT_CHUNK_CIPHERTEXT_BYTES - 1, ATTACHMENT_CHUNK_CIPHERTEXT_BYTES + 3, encryptedSize(plain.length) + 1, size - 1]) {
      const tail = await collect(blobBytes(cipher, memorySource(plain), size, from, Math.min(size, from + 100_000)));
      assert.deepEqual(tail, whole.subarray(from, Math.min(size, from + 100_000)), `from ${from}`);
    }
  });

  it('rejects a tampered chunk', async () => {
    const plain = new Uint8Array(randomBytes(2 * ATTACHMENT_CHUNK_BYTES + 10));
    const { blob, key } = await encrypt(plain);
    for (const at of [0, ATTACHMENT_CHUNK_CIPHERTEXT_BYTES + 5, encryptedSize(plain.length) - 1]) {
      const bad = blob.slice();
      bad[at]! ^= 0x01;
      await assert.rejects(decrypt(bad, key, plain.length), tampered, `byte ${at}`);
    }
  });

  it('rejects reordered chunks', async () => {
    const plain = new Uint8Array(randomBytes(3 * ATTACHMENT_CHUNK_BYTES));
    const { blob, key } = await encrypt(plain);
    const c = ATTACHMENT_CHUNK_CIPHERTEXT_BYTES;
    const swapped = blob.slice();
    swapped.set(blob.subarray(c, 2 * c), 0);
    swapped.set(blob.subarray(0, c), c);
    await assert.rejects(decrypt(swapped, key, plain.length), tampered);
  });

  it('rejects truncation: a blob cut short, or a non-final chunk passed off as the end', async () => {
    const plain = new Uint8Array(randomBytes(2 * ATTACHMENT_CHUNK_BYTES));
    const { blob, key } = await encrypt(plain);
    const cipher = await ChunkCipher.create(crypto, key, plain.length);
    const dec = new BlobDecryptor(cipher, blob.length, nodeHash());
    await dec.push(blob.subarray(0, blob.length - 100));
    assert.throws(() => dec.finish(null), tampered);
    // Claim the attachment is one chunk long: chunk 0 was not sealed as final (nor for that size).
    const first = blob.subarray(0, ATTACHMENT_CHUNK_CIPHERTEXT_BYTES);
    const short = new Uint8Array(Buffer.concat([first, new Uint8Array(blobSizeFor(ATTACHMENT_CHUNK_BYTES) - first.length)]));
    await assert.rejects(decrypt(short, key, ATTACHMENT_CHUNK_BYTES), tampered);
  });

  it('rejects extension: an extra chunk, bytes past the blob, non-zero padding, a wrong digest', async () => {
    const plain = new Uint8Array(randomBytes(ATTACHMENT_CHUNK_BYTES));
    const { blob, key } = await encrypt(plain);
    const two = await encrypt(new Uint8Array(randomBytes(2 * ATTACHMENT_CHUNK_BYTES)), key);
    // Same key, a chunk appended: the size in the AAD and the final flag both refuse it.
    const extended = Buffer.concat([Buffer.from(blob.subarray(0, encryptedSize(plain.length))), Buffer.from(two.blob.subarray(ATTACHMENT_CHUNK_CIPHERTEXT_BYTES, 2 * ATTACHMENT_CHUNK_CIPHERTEXT_BYTES))]);
    const padded = new Uint8Array(Buffer.concat([extended, new Uint8Array(blobSizeFor(2 * ATTACHMENT_CHUNK_BYTES) - extended.length)]));
    await assert.rejects(decrypt(padded, key, 2 * ATTACHMENT_CHUNK_BYTES), tampered);
    const cipher = await ChunkCipher.create(crypto, key, plain.length);
    const dec = new BlobDecryptor(cipher, blob.length, nodeHash());
    await assert.rejects(dec.push(new Uint8Array(Buffer.concat([blob, new Uint8Array(1)]))), tampered);
    const badPadding = blob.slice();
    badPadding[blob.length - 1] = 1;
    await assert.rejects(decrypt(badPadding, key, plain.length), tampered);
    await assert.rejects(decrypt(blob, key, plain.length, 10_000, new Uint8Array(32)), tampered);
    // the right digest passes
    await decrypt(blob, key, plain.length, 10_000, new Uint8Array(createHash('sha256').update(blob).digest()));
  });

  it('does not show its key in JSON or inspect', async () => {
    const key = new Uint8Array(32).fill(0xab);
    const cipher = await ChunkCipher.create(crypto, key, 10);
    assert.doesNotMatch(JSON.stringify(cipher) + inspect(cipher), /abab|171/);
  });

  it('refuses keys of the wrong length and negative sizes', async () => {
    await assert.rejects(ChunkCipher.create(crypto, new Uint8Array(16), 10), (e: unknown) => e instanceof ClientError && e.code === 'BAD_ARGUMENT');
    await assert.rejects(ChunkCipher.create(crypto, new Uint8Array(32), -1), (e: unknown) => e instanceof ClientError && e.code === 'BAD_ARGUMENT');
  });
});

describe('padding buckets', () => {
  it('are at least the size, at most 5 % above it, never below MIN_PADDED_BYTES, and monotonic', () => {
    let previous = 0;
    for (let size = 0; size < 50_000_000; size = Math.floor(size * 1.37) + 1) {
      const b = paddedSize(size);
      assert.ok(b >= size && b >= MIN_PADDED_BYTES);
      if (size > MIN_PADDED_BYTES) assert.ok(b <= Math.ceil(size * 1.05) + 1, `size ${size} -> ${b}`);
      assert.ok(b >= previous);
      previous = b;
    }
    assert.equal(paddedSize(paddedSize(123_456)), paddedSize(123_456));
  });

  it('make a few hundred buckets up to 2 GiB, and the largest attachment fits the relay limit', () => {
    let count = 0;
    for (let b = MIN_PADDED_BYTES; b < MAX_ATTACHMENT_BYTES; b = paddedSize(b + 1)) count++;
    assert.ok(count < 400, `${count} buckets`);
    assert.ok(blobSizeFor(MAX_ATTACHMENT_BYTES) <= MAX_BLOB_BYTES);
    assert.equal(chunkCount(MAX_ATTACHMENT_BYTES), MAX_ATTACHMENT_BYTES / ATTACHMENT_CHUNK_BYTES);
    // sizes in the same bucket look the same to the relay
    assert.equal(blobSizeFor(1_000_000), blobSizeFor(1_000_100));
  });
});

describe('attachment reference', () => {
  const ref: AttachmentReference = {
    url: 'http://127.0.0.1:7878/pigeon/blobs/00112233445566778899aabbccddeeff',
    blobSize: blobSizeFor(5000),
    sha256: new Uint8Array(32).fill(1),
    key: new Uint8Array(32).fill(2),
    size: 5000,
    contentType: 'image/png',
    fileName: 'photo.png',
  };

  it('round-trips standalone and inside content', () => {
    assert.deepEqual(decodeReference(encodeReference(ref)), ref);
    const content = { type: 'attachment' as const, id: new Uint8Array(16).fill(3), sentAt: 1234, attachment: ref, caption: 'look' };
    assert.deepEqual(decodeContent(encodeContent(content)), content);
  });

  it('refuses malformed references with BAD_ARGUMENT', () => {
    const bad = (e: unknown) => e instanceof ClientError && e.code === 'BAD_ARGUMENT';
    assert.throws(() => encodeReference({ ...ref, url: 'file:///etc/passwd' }), bad);
    assert.throws(() => encodeReference({ ...ref, blobSize: 10 }), bad);
    assert.throws(() => encodeReference({ ...ref, size: MAX_ATTACHMENT_BYTES + 1 }), bad);
    assert.throws(() => encodeReference({ ...ref, key: new Uint8Array(31) }), bad);
    assert.throws(() => encodeReference({ ...ref, fileName: 'a\nb' }), bad);
    const bytes = encodeReference(ref);
    assert.throws(() => decodeReference(bytes.subarray(0, bytes.length - 1)), bad);
    assert.throws(() => decodeReference(Buffer.concat([bytes, new Uint8Array(1)])), bad);
    assert.throws(() => decodeReference(new Uint8Array([9])), bad);
  });

  it('makes received file names safe to create', () => {
    assert.equal(safeFileName('../../etc/passwd'), 'passwd');
    assert.equal(safeFileName('..'), 'attachment');
    assert.equal(safeFileName('a\u0007b.txt'), 'ab.txt');
    assert.equal(safeFileName('C:\\x\\y.doc'), 'y.doc');
    assert.equal(toHex(new Uint8Array([1])), '01');
  });
});
