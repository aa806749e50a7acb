// Attachments between a CLI user and a browser user through one relay that also serves the app:
// a PNG sent with `pigeon send-file` shows inline in the browser (decoded: naturalWidth > 0);
// a file picked in the browser arrives bit-identical through `pigeon download`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, createIdentity, inviteLink, launch, newUser, openChat, shot, startRelay, tempProfile } from './harness.mjs';
import { png } from './png.mjs';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

describe('attachments between the CLI and the browser', () => {
  let relay, address, chrome, web, profile;
  before(async () => {
    ({ relay, address } = await startRelay('/app/'));
    chrome = await launch();
    web = await newUser(chrome.browser);
    profile = tempProfile();
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
