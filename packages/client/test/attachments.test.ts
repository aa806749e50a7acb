/**
 * Attachments end to end (issue 6): a 100 MB file survives connections cut several times
 * mid-upload and mid-download and arrives bit-identical; a tampered blob is rejected; the relay
 * stores only ciphertext. The blob traffic goes through a proxy that kills connections.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, openSync, readSync, statSync, writeSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { blobSizeFor, ClientError, type TransferProgress } from '../src/index.node.js';
import { attachmentRig, blobFiles } from './attachment-helpers.js';
import { tempDir } from './helpers.js';

const MB = 1024 * 1024;
const MARKER = Buffer.from(`PIGEON-PLAINTEXT-MARKER-${randomBytes(8).toString('hex')}`);

/** Writes `size` bytes: random blocks of 1 MiB, each starting with MARKER. Returns the SHA-256. */
function writeTestFile(path: string, size: number): string {
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  try {
    for (let at = 0; at < size; at += MB) {
      const block = randomBytes(Math.min(MB, size - at));
      MARKER.copy(block, 0, 0, Math.min(MARKER.length, block.length));
      writeSync(fd, block);
      hash.update(block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Does the file contain `needle` anywhere (read in blocks with overlap)? */
function fileContains(path: string, needle: Buffer): boolean {
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.alloc(4 * MB);
    let tail = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const n = readSync(fd, block, 0, block.length, pos);
      if (n === 0) return false;
      const window = Buffer.concat([tail, block.subarray(0, n)]);
      if (window.includes(needle)) return true;
      tail = Buffer.from(window.subarray(Math.max(0, window.length - (needle.length - 1))));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

describe('attachments end to end', () => {
  const dirs = tempDir('attach');
  const rig = attachmentRig(dirs);

  it('a 100 MB file survives cut connections in both directions and arrives bit-identical', async (t) => {
    const size = 100 * MB;
    const source = join(dirs.path, 'big.bin');
    const expected = writeTestFile(source, size);
    // Cut every connection after 12-25 MB of traffic: several cuts per direction, mid-request.
    let n = 0;
    rig.proxy.cutAfter = () => 12 * MB + ((n++ * 7_777_777) % (13 * MB));
    let peakMemory = 0;
    const sample = () => {
      const m = process.memoryUsage();
      peakMemory = Math.max(peakMemory, m.heapUsed + m.arrayBuffers);
    };
    const progress: TransferProgress[] = [];
    const sent = await rig.pair.alice.sendAttachment(rig.pair.bobId, source, {
      blobBaseUrl: rig.blobBaseUrl,
      retryBaseMs: 10,
      onProgress: (p) => {
        sample();
        if (progress.length === 0 || p.retries || p.done === p.total) progress.push(p);
      },
    });
    const uploadCuts = rig.proxy.cuts;
    assert.ok(uploadCuts >= 3, `upload saw ${uploadCuts} cuts`);
    assert.ok(progress.some((p) => (p.retries ?? 0) > 0));
    assert.equal(progress.at(-1)?.done, blobSizeFor(size));
    assert.match(sent.text, /^\[file\] big\.bin \(100 MB\)$/);

    // The relay holds one blob: padded to its bucket, without a trace of the plaintext.
    const files = blobFiles(rig.relay.dataDir);
    assert.equal(files.length, 1);
    assert.equal(statSync(files[0]!).size, blobSizeFor(size));
    assert.equal(fileContains(source, MARKER), true); // the check itself works
    assert.equal(fileContains(files[0]!, MARKER), false);

    const message = await rig.bobInbox.wait(sent.id);
    assert.deepEqual(rig.pair.bob.attachment(message.id), { fileName: 'big.bin', contentType: 'application/octet-stream', size });
    const dest = join(dirs.path, 'downloaded.bin');
    const got = await rig.pair.bob.downloadAttachment(message.id, dest, { retryBaseMs: 10, rangeBytes: 8 * MB, onProgress: sample });
    assert.ok(rig.proxy.cuts - uploadCuts >= 3, `download saw ${rig.proxy.cuts - uploadCuts} cuts`);
    assert.equal(got.size, size);
    assert.equal(await sha256File(dest), expected);
    assert.equal(existsSync(`${dest}.part`), false);
    // Streaming: nothing near the file size was ever held in memory.
    assert.ok(peakMemory < 160 * MB, `peak heap+buffers ${Math.round(peakMemory / MB)} MB`);
    t.diagnostic(`cuts: ${uploadCuts} during upload, ${rig.proxy.cuts - uploadCuts} during download; peak heap+buffers ${Math.round(peakMemory / MB)} MB`);
    rig.proxy.cutAfter = null;
  });

  it('rejects a blob tampered with on the relay and leaves no partial file', async () => {
    const source = join(dirs.path, 'small.txt');
    writeTestFile(source, 300_000);
    const before = new Set(blobFiles(rig.relay.dataDir));
    const sent = await rig.pair.alice.sendAttachment(rig.pair.bobId, source, { blobBaseUrl: rig.blobBaseUrl, caption: 'notes' });
    const message = await rig.bobInbox.wait(sent.id);
    assert.match(message.text, /^\[file\] small\.txt \(293 KB\) notes$/);
    const blob = blobFiles(rig.relay.dataDir).find((f) => !before.has(f))!;
    const fh = await open(blob, 'r+');
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, 70_000);
    one[0]! ^= 0x80;
    await fh.write(one, 0, 1, 70_000);
    await fh.close();
    const dest = join(dirs.path, 'tampered.txt');
    await assert.rejects(rig.pair.bob.downloadAttachment(message.id, dest), (e: unknown) => e instanceof ClientError && e.code === 'ATTACHMENT_TAMPERED');
    assert.equal(existsSync(dest), false);
    assert.equal(existsSync(`${dest}.part`), false);
  });

  it('downloads into a directory under a safe name; unknown ids are UNKNOWN_MESSAGE', async () => {
    const source = join(dirs.path, 'photo.png');
    writeTestFile(source, 10_000);
    const sent = await rig.pair.alice.sendAttachment(rig.pair.bobId, source, { blobBaseUrl: rig.blobBaseUrl });
    const message = await rig.bobInbox.wait(sent.id);
    assert.equal(rig.pair.bob.attachment(message.id)?.contentType, 'image/png');
    const got = await rig.pair.bob.downloadAttachment(message.id, dirs.path);
    assert.equal(got.path, join(dirs.path, 'photo.png'));
    await assert.rejects(rig.pair.bob.downloadAttachment('00'.repeat(16), dirs.path), (e: unknown) => e instanceof ClientError && e.code === 'UNKNOWN_MESSAGE');
    await assert.rejects(rig.pair.alice.sendAttachment(rig.pair.bobId, join(dirs.path, 'missing.bin'), { blobBaseUrl: rig.blobBaseUrl }), (e: unknown) => e instanceof ClientError && e.code === 'FILE_ERROR');
  });
});
