// Attachments between a CLI user and a browser user through one relay that also serves the app:
// a PNG sent with `pigeon send-file` shows inline in the browser (decoded: naturalWidth > 0);
// a file picked in the browser arrives bit-identical through `pigeon download`; a file above the
// in-memory limit downloads into the origin-private file system and saves from there.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, createIdentity, inviteLink, launch, newUser, openChat, shot, startRelay, tempProfile } from './harness.mjs';
import { png } from './png.mjs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The page's finished disk downloads (logic/disk-download.ts: OPFS `downloads/`), by name. */
const downloadFiles = (page) =>
  page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('downloads', { create: true });
    const files = [];
    for await (const h of dir.values()) if (h.kind === 'file') files.push({ name: h.name, size: (await h.getFile()).size });
    return files.sort((a, b) => a.name.localeCompare(b.name));
  });

describe('attachments between the CLI and the browser', () => {
  let relay, address, chrome, web, profile;
  const relayBlobs = () => {
    const dir = join(profile.dir, 'relay', 'blobs');
    return existsSync(dir) ? readdirSync(dir).map((n) => join(dir, n)) : [];
  };
  before(async () => {
    profile = tempProfile();
    // Blobs on disk, so a test can alter one the way a hostile relay would.
    ({ relay, address } = await startRelay('/app/', { dataDir: join(profile.dir, 'relay') }));
    chrome = await launch();
    web = await newUser(chrome.browser);
    await cli(profile.dir, ['init', '--relay', address.url, '--name', 'Carol']);
    await createIdentity(web.page, address.appUrl, 'Dana');
    const link = await inviteLink(web.page);
    await cli(profile.dir, ['accept', 'pigeon://invite/' + link.split('#invite=')[1]]);
    await cli(profile.dir, ['send', 'Dana', 'files coming']);
    await openChat(web.page, 'Carol');
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
    profile?.remove();
  });

  it('a PNG from the CLI shows inline in the browser and opens full size', async () => {
    const path = join(profile.dir, 'gradient.png');
    writeFileSync(path, png(320, 200));
    await cli(profile.dir, ['send-file', 'Dana', path, '--caption', 'a gradient']);
    const img = web.page.getByTestId('attachment-image');
    await img.waitFor();
    // Decoded by the browser from a blob: URL (the CSP allows img-src blob:).
    await web.page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=attachment-image]');
      return el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0;
    });
    assert.deepEqual(await img.evaluate((el) => [el.naturalWidth, el.naturalHeight, el.src.startsWith('blob:')]), [320, 200, true]);
    assert.ok(await web.page.getByTestId('message').filter({ hasText: 'a gradient' }).count());
    await shot(web.page, 'desktop-attachment-inline');
    await img.click();
    await web.page.getByTestId('lightbox').waitFor();
    await shot(web.page, 'desktop-attachment-full-size');
    await web.page.keyboard.press('Escape');
    await web.page.getByTestId('lightbox').waitFor({ state: 'detached' });
  });

  it('a file picked in the browser reaches the CLI bit-identical', async () => {
    // 5 MB: several PATCH segments of the browser upload and a multi-chunk download.
    const bytes = randomBytes(5 * 1024 * 1024 + 321);
    await web.page.getByTestId('attach-input').setInputFiles({ name: 'report.bin', mimeType: 'application/octet-stream', buffer: bytes });
    const bubble = web.page.getByTestId('message').filter({ has: web.page.getByTestId('attachment') }).filter({ hasText: 'report.bin' });
    await bubble.waitFor();
    assert.equal(await web.page.getByTestId('upload').count(), 0);
    // Also a picked image: its own bubble shows it without downloading it back.
    await web.page.getByTestId('attach-input').setInputFiles({ name: 'mine.png', mimeType: 'image/png', buffer: png(64, 64) });
    await web.page.waitForFunction(() => [...document.querySelectorAll('[data-testid=attachment-image]')].filter((i) => i instanceof HTMLImageElement && i.complete && i.naturalWidth === 64).length === 1);
    await shot(web.page, 'desktop-attachment-sent');

    await cli(profile.dir, ['inbox']);
    const listed = JSON.parse(await cli(profile.dir, ['download', '--list', '--json']));
    const file = listed.attachments.find((a) => a.fileName === 'report.bin');
    assert.ok(file, JSON.stringify(listed));
    assert.equal(file.size, bytes.length);
    const got = JSON.parse(await cli(profile.dir, ['download', file.id, profile.dir, '--json']).then((s) => s.trim().split('\n').at(-1)));
    assert.equal(got.size, bytes.length);
    assert.equal(sha256(readFileSync(join(profile.dir, 'report.bin'))), sha256(bytes));
  });

  it('a file bigger than the in-memory limit (300 MiB) streams to a disk file as it verifies and saves bit-identical', async (t) => {
    const MiB = 1024 * 1024;
    const size = 300 * MiB + 5; // above MAX_IN_MEMORY_DOWNLOAD_BYTES (256 MiB)
    const path = join(profile.dir, 'archive.bin');
    const hash = createHash('sha256');
    const fd = openSync(path, 'w');
    for (let done = 0; done < size; ) {
      const piece = randomBytes(Math.min(16 * MiB, size - done));
      hash.update(piece);
      writeSync(fd, piece);
      done += piece.length;
    }
    closeSync(fd);
    const expected = hash.digest('hex');
    const started = Date.now();
    await cli(profile.dir, ['send-file', 'Dana', path], { timeoutMs: 240_000 });
    const uploadMs = Date.now() - started;
    rmSync(path);

    const card = web.page.locator('[data-testid=attachment][data-kind=file]').filter({ hasText: 'archive.bin' });
    await card.waitFor();
    assert.match(await card.innerText(), /archive\.bin\s+300 MB/);
    const download = web.page.waitForEvent('download', { timeout: 240_000 });
    const clicked = Date.now();
    await card.getByTestId('attachment-download').click();
    const saved = await download;
    const downloadMs = Date.now() - clicked;
    assert.equal(saved.suggestedFilename(), 'archive.bin');
    // The decrypted file went to the origin-private file system, not into the page's memory.
    assert.deepEqual((await downloadFiles(web.page)).map((f) => f.size), [size]);
    const savedPath = await saved.path();
    assert.equal(statSync(savedPath).size, size);
    const savedHash = createHash('sha256');
    for await (const piece of createReadStream(savedPath)) savedHash.update(piece);
    assert.equal(savedHash.digest('hex'), expected);
    await saved.delete();
    t.diagnostic(`300 MiB: CLI upload ${uploadMs} ms, browser download + verify + save ${downloadMs} ms`);
  });

  it('a big file altered on the relay is discarded: the error shows and nothing of it stays on disk', async () => {
    const before = await downloadFiles(web.page);
    const blobsBefore = new Set(relayBlobs());
    const path = join(profile.dir, 'altered.bin');
    writeFileSync(path, randomBytes(65 * 1024 * 1024)); // above DISK_DOWNLOAD_MIN_BYTES
    await cli(profile.dir, ['send-file', 'Dana', path], { timeoutMs: 120_000 });
    rmSync(path);
    const blob = relayBlobs().find((f) => !blobsBefore.has(f));
    assert.ok(blob, 'the upload is a new blob file on the relay');
    const fd = openSync(blob, 'r+');
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, 40 * 1024 * 1024);
    one[0] ^= 0x01;
    writeSync(fd, one, 0, 1, 40 * 1024 * 1024);
    closeSync(fd);

    const card = web.page.locator('[data-testid=attachment][data-kind=file]').filter({ hasText: 'altered.bin' });
    await card.waitFor();
    await card.getByTestId('attachment-download').click();
    await web.page.waitForFunction(() => document.querySelector('[data-testid=attachment][data-state=failed]') !== null, null, { timeout: 120_000 });
    assert.match(await card.getByRole('alert').innerText(), /did not pass verification/);
    assert.equal(await card.getByTestId('attachment-save').count(), 0);
    assert.deepEqual(await downloadFiles(web.page), before);
  });

  it('a non-image file shows name, size and a Download button that saves it', async () => {
    const path = join(profile.dir, 'notes.txt');
    writeFileSync(path, 'meeting at noon\n'.repeat(1000));
    await cli(profile.dir, ['send-file', 'Dana', path]);
    const card = web.page.locator('[data-testid=attachment][data-kind=file]').filter({ hasText: 'notes.txt' });
    await card.waitFor();
    assert.match(await card.innerText(), /notes\.txt\s+16 KB/);
    const download = web.page.waitForEvent('download');
    await card.getByTestId('attachment-download').click();
    const saved = await download;
    assert.equal(saved.suggestedFilename(), 'notes.txt');
    assert.equal(readFileSync(await saved.path(), 'utf8'), 'meeting at noon\n'.repeat(1000));
    await shot(web.page, 'desktop-attachment-file');
  });
});
