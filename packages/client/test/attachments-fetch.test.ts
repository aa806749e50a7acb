/**
 * Attachments over fetch (the browser path: sendAttachmentBlob / downloadAttachmentBytes /
 * downloadAttachmentTo) against a real in-process relay: bit-identical round trip through connections cut mid-request in both
 * directions, interop with the Node file path (one blob format, two transports), a tampered blob
 * rejected, and the in-memory size limit refused before any request.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  blobSizeFor,
  ClientError,
  downloadAttachmentToMemory,
  MAX_IN_MEMORY_DOWNLOAD_BYTES,
  type AttachmentReference,
  type TransferProgress,
} from '../src/index.node.js';
import { defaultBackend } from '@pigeon/crypto';
import { attachmentRig, blobFiles } from './attachment-helpers.js';
import { tempDir } from './helpers.js';

const MB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const isCode = (code: string) => (e: unknown) => e instanceof ClientError && e.code === code;

describe('attachments over fetch (browser path)', () => {
  const dirs = tempDir('attach-fetch');
  const rig = attachmentRig(dirs);

  it('a Blob survives cut connections both ways and comes back bit-identical', async (t) => {
    const size = 24 * MB + 12_345;
    const bytes = randomBytes(size);
    // Cut every connection after 3-6 MB: several cuts per direction, mid-request (keep-alive
    // connections carry several requests, so some cuts land between requests too).
    let n = 0;
    rig.proxy.cutAfter = () => 3 * MB + ((n++ * 777_777) % (3 * MB));
    const progress: TransferProgress[] = [];
    const sent = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([bytes], { type: 'application/x-test' }), {
      fileName: 'data.bin',
      caption: 'from a Blob',
      blobBaseUrl: rig.blobBaseUrl,
      retryBaseMs: 10,
      onProgress: (p) => progress.push(p),
    });
    const uploadCuts = rig.proxy.cuts;
    assert.ok(uploadCuts >= 2, `upload saw ${uploadCuts} cuts`);
    assert.ok(progress.some((p) => (p.retries ?? 0) > 0), 'a retry was reported');
    assert.equal(progress.at(-1)?.done, blobSizeFor(size));
    assert.ok(progress.every((p) => p.phase === 'upload' && p.total === blobSizeFor(size)));
    assert.match(sent.text, /^\[file\] data\.bin \(24 MB\) from a Blob$/);

    const message = await rig.bobInbox.wait(sent.id);
    assert.deepEqual(rig.pair.bob.attachment(message.id), { fileName: 'data.bin', contentType: 'application/x-test', size });
    const seen: TransferProgress[] = [];
    const got = await rig.pair.bob.downloadAttachmentBytes(message.id, { retryBaseMs: 10, rangeBytes: 4 * MB, onProgress: (p) => seen.push(p) });
    assert.ok(rig.proxy.cuts - uploadCuts >= 2, `download saw ${rig.proxy.cuts - uploadCuts} cuts`);
    assert.ok(seen.some((p) => (p.retries ?? 0) > 0));
    assert.equal(seen.at(-1)?.done, blobSizeFor(size));
    assert.equal(got.length, size);
    assert.equal(sha256(got), sha256(bytes));
    t.diagnostic(`cuts: ${uploadCuts} during upload, ${rig.proxy.cuts - uploadCuts} during download`);
    rig.proxy.cutAfter = null;
  });

  it('one blob format: a Blob upload downloads to a file, a file upload downloads to memory', async () => {
    const bytes = randomBytes(300_001);
    const fromBlob = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([bytes]), { fileName: 'photo.png', blobBaseUrl: rig.blobBaseUrl });
    assert.equal(rig.pair.alice.attachment(fromBlob.id)?.contentType, 'image/png'); // guessed from the name
    const dest = join(dirs.path, 'via-file.png');
    await rig.pair.bob.downloadAttachment((await rig.bobInbox.wait(fromBlob.id)).id, dest);
    assert.equal(sha256(readFileSync(dest)), sha256(bytes));

    const path = join(dirs.path, 'notes.txt');
    writeFileSync(path, bytes);
    const fromFile = await rig.pair.alice.sendAttachment(rig.pair.bobId, path, { blobBaseUrl: rig.blobBaseUrl });
    const got = await rig.pair.bob.downloadAttachmentBytes((await rig.bobInbox.wait(fromFile.id)).id);
    assert.equal(sha256(got), sha256(bytes));
    // The sender can fetch its own upload too (the web app shows its own images after a reload).
    assert.equal(sha256(await rig.pair.alice.downloadAttachmentBytes(fromFile.id)), sha256(bytes));
  });

  it('rejects a blob tampered with on the relay (ATTACHMENT_TAMPERED)', async () => {
    const before = new Set(blobFiles(rig.relay.dataDir));
    const sent = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([randomBytes(200_000)]), { fileName: 'x.bin', blobBaseUrl: rig.blobBaseUrl });
    const message = await rig.bobInbox.wait(sent.id);
    const blob = blobFiles(rig.relay.dataDir).find((f) => !before.has(f))!;
    const fh = await open(blob, 'r+');
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, 140_000);
    one[0]! ^= 0x01;
    await fh.write(one, 0, 1, 140_000);
    await fh.close();
    await assert.rejects(rig.pair.bob.downloadAttachmentBytes(message.id), isCode('ATTACHMENT_TAMPERED'));
  });

  it('downloadAttachmentTo streams into a caller sink: in order, contiguous, no in-memory limit', async () => {
    const bytes = randomBytes(3 * MB + 7);
    const sent = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([bytes]), { fileName: 'big.bin', blobBaseUrl: rig.blobBaseUrl });
    const message = await rig.bobInbox.wait(sent.id);
    const writes: { at: number; length: number }[] = [];
    const parts: Uint8Array[] = [];
    await rig.pair.bob.downloadAttachmentTo(
      message.id,
      {
        write: async (plain, at) => {
          writes.push({ at, length: plain.length });
          parts.push(plain.slice());
          await new Promise((r) => setImmediate(r)); // an asynchronous sink, as a browser file is
        },
      },
      { rangeBytes: MB },
    );
    let next = 0;
    for (const w of writes) {
      assert.equal(w.at, next);
      next += w.length;
    }
    assert.equal(next, bytes.length);
    assert.equal(sha256(Buffer.concat(parts)), sha256(bytes));
    await assert.rejects(rig.pair.bob.downloadAttachmentTo('00'.repeat(16), { write: () => undefined }), isCode('UNKNOWN_MESSAGE'));
  });

  it('a sink that fails ends the download with its error at once (never retried as a dropped connection)', async () => {
    const bytes = randomBytes(MB);
    const sent = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([bytes]), { fileName: 'full.bin', blobBaseUrl: rig.blobBaseUrl });
    const message = await rig.bobInbox.wait(sent.id);
    const diskFull = Object.assign(new Error('no space left'), { name: 'QuotaExceededError' });
    let calls = 0;
    const progress: TransferProgress[] = [];
    await assert.rejects(
      rig.pair.bob.downloadAttachmentTo(
        message.id,
        {
          write: () => {
            calls++;
            if (calls === 3) throw diskFull;
          },
        },
        { retryBaseMs: 1, onProgress: (p) => progress.push(p) },
      ),
      (e: unknown) => e === diskFull,
    );
    assert.equal(calls, 3);
    assert.ok(progress.every((p) => (p.retries ?? 0) === 0), 'no retry was made');
  });

  it('a cancelled upload stops with CANCELLED and leaves nothing on the relay; a cancelled download stops writing', async () => {
    const before = new Set(blobFiles(rig.relay.dataDir));
    const controller = new AbortController();
    let sawFile = false;
    await assert.rejects(
      rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([randomBytes(8 * MB)]), {
        fileName: 'stop.bin',
        blobBaseUrl: rig.blobBaseUrl,
        onProgress: (p) => {
          if (p.done < 3 * MB) return;
          sawFile ||= blobFiles(rig.relay.dataDir).some((f) => !before.has(f));
          controller.abort();
        },
        signal: controller.signal,
      }),
      isCode('CANCELLED'),
    );
    assert.ok(sawFile, 'the unfinished upload had a file on the relay');
    assert.deepEqual(blobFiles(rig.relay.dataDir).filter((f) => !before.has(f)), []);

    const sent = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([randomBytes(4 * MB)]), { fileName: 'half.bin', blobBaseUrl: rig.blobBaseUrl });
    const message = await rig.bobInbox.wait(sent.id);
    const stop = new AbortController();
    let written = 0;
    let writesAfterCancel = 0;
    await assert.rejects(
      rig.pair.bob.downloadAttachmentTo(
        message.id,
        {
          write: (plain) => {
            if (stop.signal.aborted) writesAfterCancel++;
            written += plain.length;
            if (written >= MB) stop.abort();
          },
        },
        { rangeBytes: MB, signal: stop.signal },
      ),
      isCode('CANCELLED'),
    );
    assert.ok(written < 4 * MB, `wrote ${written} bytes`);
    // At most the rest of the chunks already decrypted from the piece in hand.
    assert.ok(writesAfterCancel <= 16, `${writesAfterCancel} writes after the cancel`);
    // Cancelled before it starts: no request at all.
    const aborted = AbortSignal.abort();
    await assert.rejects(rig.pair.bob.downloadAttachmentBytes(message.id, { signal: aborted }), isCode('CANCELLED'));
  });

  it('refuses an attachment above the in-memory limit before any request; unknown ids are UNKNOWN_MESSAGE', async () => {
    const sent = await rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, new Blob([randomBytes(5000)]), { fileName: 'small.bin', blobBaseUrl: rig.blobBaseUrl });
    const message = await rig.bobInbox.wait(sent.id);
    await assert.rejects(rig.pair.bob.downloadAttachmentBytes(message.id, { maxBytes: 4999 }), isCode('ATTACHMENT_TOO_LARGE'));
    assert.equal((await rig.pair.bob.downloadAttachmentBytes(message.id, { maxBytes: 5000 })).length, 5000);
    // A page may only fetch its own origin: a blob elsewhere fails at once instead of retrying.
    await assert.rejects(rig.pair.bob.downloadAttachmentBytes(message.id, { allowedOrigins: ['https://elsewhere.example'] }), isCode('RELAY_UNREACHABLE'));
    assert.equal((await rig.pair.bob.downloadAttachmentBytes(message.id, { allowedOrigins: [new URL(rig.blobBaseUrl).origin] })).length, 5000);

    const size = MAX_IN_MEMORY_DOWNLOAD_BYTES + 1;
    const huge: AttachmentReference = { url: 'http://127.0.0.1:9/blob', blobSize: blobSizeFor(size), sha256: new Uint8Array(32), key: new Uint8Array(32), size, contentType: 'image/png', fileName: 'huge.png' };
    let fetched = 0;
    const fakeFetch: typeof fetch = async () => {
      fetched++;
      throw new Error('no request expected');
    };
    await assert.rejects(downloadAttachmentToMemory({ crypto: defaultBackend(), reference: huge, fetch: fakeFetch }), isCode('ATTACHMENT_TOO_LARGE'));
    assert.equal(fetched, 0);
    await assert.rejects(rig.pair.bob.downloadAttachmentBytes('00'.repeat(16)), isCode('UNKNOWN_MESSAGE'));
  });

  it('refuses an upload above MAX_ATTACHMENT_BYTES before reading anything', async () => {
    // A Blob-like source that claims 3 GiB without holding it.
    let reads = 0;
    const claims = { size: 3 * 1024 * MB, slice: () => ({ arrayBuffer: async () => (reads++, new ArrayBuffer(0)) }) };
    await assert.rejects(rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, claims, { fileName: 'big.iso', blobBaseUrl: rig.blobBaseUrl }), isCode('ATTACHMENT_TOO_LARGE'));
    assert.equal(reads, 0);
  });

  it('a File that cannot be read mid-upload is FILE_ERROR, not retried forever', async () => {
    let reads = 0;
    const flaky = {
      size: 5 * MB,
      slice: (start: number, end: number) => ({
        arrayBuffer: async () => {
          if (++reads > 2) throw new Error('NotReadableError');
          return new ArrayBuffer(end - start);
        },
      }),
    };
    await assert.rejects(rig.pair.alice.sendAttachmentBlob(rig.pair.bobId, flaky, { fileName: 'gone.bin', blobBaseUrl: rig.blobBaseUrl }), isCode('FILE_ERROR'));
  });
});
