// Linked devices in the browser: a CLI account links a browser as its second device (messages
// reach both, what the browser sends shows as ours on the CLI), the CLI removes it (the browser
// says so); and a browser that created its account links a second browser from Settings -> Devices.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PigeonClient } from '@pigeon/client';
import { cli, createIdentity, launch, messageLocator, newUser, openChat, qrReady, sendText, shot, startRelay, tempProfile, WAIT_MS } from './harness.mjs';

const json = async (profile, args) => JSON.parse(await cli(profile, [...args, '--json']));
const SENT = '[data-testid=message][data-state=sent], [data-testid=message][data-state=delivered], [data-testid=message][data-state=read]';

/** Reads a CLI profile with the SDK (the CLI is not running), to look at what it stored. */
async function withProfile(dir, fn) {
  const client = await PigeonClient.open({ home: dir, connectTimeoutMs: WAIT_MS });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Starts "Link to an existing account" on a fresh page; resolves the link code it shows. */
async function startLinking(page, appUrl) {
  await page.goto(appUrl);
  await page.getByRole('button', { name: 'Link to an existing account' }).click();
  const box = page.getByTestId('link-code');
  await box.waitFor();
  return box.inputValue();
}

async function openDevices(page) {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByTestId('devices-panel').waitFor();
}

describe('a CLI account links a browser as its second device', () => {
  let relay, address, chrome, web, alice, bob;
  before(async () => {
    ({ relay, address } = await startRelay());
    chrome = await launch();
    web = await newUser(chrome.browser);
    alice = tempProfile();
    bob = tempProfile();
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
    alice?.remove();
    bob?.remove();
  });

  it('the browser shows a link code; the CLI adds it; both show the same code; the contacts come over', async () => {
    await cli(alice.dir, ['init', '--relay', address.url, '--name', 'Alice']);
    await cli(bob.dir, ['init', '--relay', address.url, '--name', 'Bob']);
    const { link } = await json(alice.dir, ['invite']);
    await cli(bob.dir, ['accept', link, '--name', 'Alice']);
    await cli(bob.dir, ['send', 'Alice', 'before the browser']);
    await cli(alice.dir, ['inbox']); // Alice learns Bob from his introduction

    const code = await startLinking(web.page, address.appUrl);
    assert.match(code, /^pigeon:\/\/link\//);
    await qrReady(web.page);
    await shot(web.page, 'link-device-code');
    const { device } = await json(alice.dir, ['devices', 'add', code]);
    const shown = web.page.getByTestId('link-confirmation-code');
    await shown.waitFor();
    assert.equal(await shown.innerText(), device.confirmationCode);
    assert.equal(await web.page.getByTestId('link-pigeon-id').innerText(), device.pigeonId);
    await shot(web.page, 'link-device-compare');
    await web.page.getByRole('button', { name: 'They match: link this browser' }).click();
    await web.page.locator('[data-testid=connection][data-state=connected]').waitFor();
    await web.page.getByTestId('conversation').filter({ hasText: 'Bob' }).waitFor();
    const list = await json(alice.dir, ['devices', 'list']);
    assert.equal(list.devices.length, 2);
    assert.ok(list.devices.some((d) => !d.current && d.id === device.deviceId));
  });

  it('a contact\'s message reaches the browser and the CLI; the browser\'s reaches the contact and shows as ours on the CLI', async () => {
    await cli(bob.dir, ['inbox']); // Bob's client takes Alice's new device list (pushed by her CLI)
    await cli(bob.dir, ['send', 'Alice', 'hello to both of you']);
    await openChat(web.page, 'Bob');
    await messageLocator(web.page, 'hello to both of you').waitFor();
    const aliceInbox = await json(alice.dir, ['inbox']);
    assert.ok(aliceInbox.messages.some((m) => m.text === 'hello to both of you'), JSON.stringify(aliceInbox));

    await sendText(web.page, 'sent from the linked browser');
    await web.page.locator(SENT).filter({ hasText: 'sent from the linked browser' }).waitFor();
    const bobInbox = await json(bob.dir, ['inbox']);
    assert.ok(bobInbox.messages.some((m) => m.text === 'sent from the linked browser'), JSON.stringify(bobInbox));
    await cli(alice.dir, ['inbox']); // receives the sent-message sync
    const synced = await withProfile(alice.dir, (c) => c.messages(c.findContact('Bob').id).find((m) => m.text === 'sent from the linked browser'));
    assert.equal(synced?.direction, 'out', 'the CLI shows it as sent by Alice');

    // And the other way: what the CLI sends shows in the browser as outgoing.
    await cli(alice.dir, ['send', 'Bob', 'sent from the terminal']);
    const bubble = messageLocator(web.page, 'sent from the terminal');
    await bubble.waitFor();
    assert.match(await bubble.getAttribute('class'), /\bmsg-out\b/);
  });

  it('the linked browser lists both devices and cannot manage them', async () => {
    await openDevices(web.page);
    await web.page.getByTestId('device-row').nth(1).waitFor();
    assert.equal(await web.page.getByTestId('device-row').count(), 2);
    assert.equal(await web.page.locator('[data-testid=device-row][data-current=true]').innerText().then((s) => s.includes('This browser')), true);
    await web.page.getByTestId('manage-from-primary').waitFor();
    assert.equal(await web.page.getByRole('button', { name: /^Remove/ }).count(), 0);
    assert.equal(await web.page.getByRole('button', { name: 'Link a new device' }).count(), 0);
    await web.page.getByTestId('devices-panel').scrollIntoViewIfNeeded();
    await shot(web.page, 'devices-panel-linked');
  });

  it('the CLI removes the browser: the browser says it was removed, nobody sends to it any more', async () => {
    const { devices } = await json(alice.dir, ['devices', 'list']);
    const browserDevice = devices.find((d) => !d.current);
    await cli(alice.dir, ['devices', 'remove', browserDevice.id]);
    await web.page.getByTestId('revoked').waitFor();
    assert.match(await web.page.getByTestId('revoked').innerText(), /removed from your account/);
    await shot(web.page, 'device-revoked');

    await cli(bob.dir, ['inbox']); // takes the shorter list
    await cli(bob.dir, ['send', 'Alice', 'after the browser was removed']);
    const aliceInbox = await json(alice.dir, ['inbox']);
    assert.ok(aliceInbox.messages.some((m) => m.text === 'after the browser was removed'));
    const aliceId = await withProfile(alice.dir, (c) => c.profile().accountId);
    const bobHolds = await withProfile(bob.dir, (c) => c.devices.heldList(aliceId)?.devices.length);
    assert.equal(bobHolds, 1, 'Bob fans out to Alice\'s CLI only');

    // Still removed after a reload (the signed list is stored); resetting brings back onboarding.
    await web.page.reload();
    await web.page.getByTestId('revoked').waitFor();
    assert.equal(await messageLocator(web.page, 'after the browser was removed').count(), 0);
    await web.page.getByRole('button', { name: 'Reset this browser' }).click();
    await web.page.getByRole('alertdialog').getByRole('button', { name: 'Reset this browser' }).click();
    await web.page.getByRole('button', { name: 'Link to an existing account' }).waitFor();
  });
});

describe('a browser that created its account links a second browser', () => {
  let relay, address, chrome, first, second;
  before(async () => {
    ({ relay, address } = await startRelay());
    chrome = await launch();
    first = await newUser(chrome.browser);
    second = await newUser(chrome.browser);
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
  });

  it('links from Settings -> Devices with the code comparison, lists both live, and removes it after a confirmation', async () => {
    await createIdentity(first.page, address.appUrl, 'Erin');
    const code = await startLinking(second.page, address.appUrl);

    await openDevices(first.page);
    await first.page.getByRole('button', { name: 'Link a new device' }).click();
    // A damaged code is refused with its reason (the SDK's BAD_LINK), and nothing is linked.
    await first.page.getByLabel('Code from the new device').fill('pigeon://link/AAAA');
    await first.page.getByRole('button', { name: 'Link device', exact: true }).click();
    assert.match(await first.page.getByTestId('add-device-error').innerText(), /not a link code/);
    assert.equal(await first.page.getByTestId('device-row').count(), 1);
    await first.page.getByLabel('Code from the new device').fill(code);
    await first.page.getByRole('button', { name: 'Link device', exact: true }).click();
    const primaryCode = await first.page.getByTestId('added-confirmation-code').innerText();
    await second.page.getByTestId('link-confirmation-code').waitFor();
    assert.equal(await second.page.getByTestId('link-confirmation-code').innerText(), primaryCode);
    await shot(first.page, 'devices-add-compare');
    await first.page.getByRole('button', { name: 'They match' , exact: true }).click();
    await second.page.getByRole('button', { name: 'They match: link this browser' }).click();
    await second.page.locator('[data-testid=connection][data-state=connected]').waitFor();

    await first.page.getByTestId('device-row').nth(1).waitFor();
    assert.equal(await first.page.getByTestId('device-row').count(), 2);
    await first.page.getByTestId('devices-panel').scrollIntoViewIfNeeded();
    await shot(first.page, 'devices-panel-primary');
    await openDevices(second.page);
    await second.page.getByTestId('device-row').nth(1).waitFor();
    await second.page.getByTestId('manage-from-primary').waitFor();

    await first.page.getByRole('button', { name: /^Remove Device/ }).click();
    const dialog = first.page.getByRole('alertdialog');
    assert.match(await dialog.innerText(), /stops receiving your messages/);
    await shot(first.page, 'devices-remove-confirm');
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await second.page.getByTestId('revoked').waitFor();
    await first.page.locator('[data-testid=device-row]').nth(1).waitFor({ state: 'detached' });
    assert.equal(await first.page.getByTestId('device-row').count(), 1);
  });
});
