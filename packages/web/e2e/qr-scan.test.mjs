// QR scanning with Chromium's fake camera: the camera "sees" a y4m file written by the test (the
// file is opened again for each getUserMedia, so one browser scans several codes). Bob scans
// Alice's invite QR, then her safety-number QR (taken from her screen), then a code that is not
// Pigeon's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createIdentity, inviteLink, launch, messageLocator, newUser, openChat, qrReady, sendText, shot, startRelay } from './harness.mjs';
import { qrLuma, writeY4m } from './y4m.mjs';

const FRAME = 720;
const BLANK = { luma: Uint8Array.of(255, 255, 255, 255), side: 2 };

/** The luma of the QR image shown on `page` (what a camera pointed at that screen would see). */
async function screenQrLuma(page, side) {
  const pixels = await page.evaluate(async (size) => {
    const img = document.querySelector('.qr img');
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    const g = canvas.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, size, size);
    g.imageSmoothingEnabled = false;
    g.drawImage(img, 0, 0, size, size);
    const { data } = g.getImageData(0, 0, size, size);
    const out = [];
    for (let i = 0; i < data.length; i += 4) out.push(data[i] < 128 ? 0 : 255);
    return out;
  }, side);
  return { luma: Uint8Array.from(pixels), side };
}

/** How many camera tracks the page got, and how many of them are still running. */
function cameraTracks(page) {
  return page.evaluate(() => ({ total: window.cameraTracks.length, live: window.cameraTracks.filter((t) => t.readyState === 'live').length }));
}


describe('QR scanning with a camera (Chromium fake device)', () => {
  let relay, appUrl, plain, camera, alice, bob, dir, video;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pigeon-qr-'));
    video = join(dir, 'camera.y4m');
    writeY4m(video, BLANK, { width: FRAME, height: FRAME });
    const r = await startRelay();
    relay = r.relay;
    appUrl = r.address.appUrl;
    plain = await launch();
    camera = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
    alice = await newUser(plain.browser);
    bob = await newUser(camera.browser);
    // Records every camera track the app gets, so the test can see that each one was stopped.
    await bob.context.addInitScript(() => {
      const media = navigator.mediaDevices;
      const original = media.getUserMedia.bind(media);
      window.cameraTracks = [];
      media.getUserMedia = async (constraints) => {
        const stream = await original(constraints);
        window.cameraTracks.push(...stream.getTracks());
        return stream;
      };
    });
  });
  after(async () => {
    await camera?.close();
    await plain?.close();
    await relay?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scans an invite link: the contact is added and the chat opens', async () => {
    await createIdentity(alice.page, appUrl, 'Alice');
    await createIdentity(bob.page, appUrl, 'Bob');
    const link = await inviteLink(alice.page);
    // First an empty picture: the dialog shows the camera until Cancel, which turns it off.
    writeY4m(video, BLANK, { width: FRAME, height: FRAME });
    await bob.page.getByRole('button', { name: 'Add contact' }).click();
    await bob.page.getByTestId('scan-qr').click();
    await bob.page.getByText('Point the camera at the QR code.').waitFor();
    await bob.page.waitForFunction(() => document.querySelector('[data-testid=qr-scanner] video')?.srcObject?.getVideoTracks()[0]?.readyState === 'live');
    await shot(bob.page, 'desktop-qr-scanner');
    await bob.page.getByRole('button', { name: 'Cancel' }).click();
    await bob.page.getByTestId('qr-scanner').waitFor({ state: 'detached' });
    assert.deepEqual(await cameraTracks(bob.page), { total: 1, live: 0 });

    writeY4m(video, qrLuma(link), { width: FRAME, height: FRAME });
    await bob.page.getByTestId('scan-qr').click();
    await bob.page.locator('#chat-title', { hasText: 'Alice' }).waitFor();
    assert.equal(await bob.page.getByTestId('qr-scanner').count(), 0);
    // The camera is off again once the code is read.
    assert.deepEqual(await cameraTracks(bob.page), { total: 2, live: 0 });
    await sendText(bob.page, 'scanned your code');
    await openChat(alice.page, 'Bob');
    await messageLocator(alice.page, 'scanned your code').waitFor();
  });

  it("scanning the contact's safety-number code marks them verified", async () => {
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    await qrReady(alice.page);
    writeY4m(video, await screenQrLuma(alice.page, 330), { width: FRAME, height: FRAME });
    await bob.page.getByRole('button', { name: 'Safety number' }).click();
    await bob.page.getByTestId('verified-state').filter({ hasText: 'Not verified' }).waitFor();
    await bob.page.getByRole('button', { name: 'Scan their code' }).click();
    await bob.page.locator('[data-testid=safety-scan-result][data-outcome=match]').waitFor();
    await bob.page.getByTestId('verified-state').filter({ hasText: /^Verified$/ }).waitFor();
    await shot(bob.page, 'desktop-safety-scanned');
    // Bob's own code is not what Alice's device shows: scanning it warns and changes nothing.
    await bob.page.getByRole('button', { name: 'Remove verification' }).click();
    await qrReady(bob.page);
    writeY4m(video, await screenQrLuma(bob.page, 330), { width: FRAME, height: FRAME });
    await bob.page.getByTestId('scan-qr').click();
    await bob.page.locator('[data-testid=safety-scan-result][data-outcome=mismatch]').waitFor();
    assert.match(await bob.page.getByTestId('verified-state').innerText(), /Not verified/);
  });

  it('a QR code that is not a Pigeon link says so', async () => {
    writeY4m(video, qrLuma('https://example.org/lunch-menu'), { width: FRAME, height: FRAME });
    await bob.page.getByRole('button', { name: 'Add contact' }).click();
    await bob.page.getByTestId('scan-qr').click();
    assert.equal(await bob.page.getByTestId('accept-error').innerText(), 'This QR code is not a Pigeon code.');
  });
});
