// Two browser users: identities, invite, chat both ways, safety numbers, reload, offline queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { qrReady, createIdentity, inviteLink, launch, messageLocator, newUser, openChat, PHONE, sendText, shot, startRelay } from './harness.mjs';

describe('web client in Chromium', () => {
  let relay, appUrl, chrome, alice, bob;
  before(async () => {
    const r = await startRelay();
    relay = r.relay;
    appUrl = r.address.appUrl;
    chrome = await launch();
    alice = await newUser(chrome.browser);
    bob = await newUser(chrome.browser);
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
  });

  it('creates identities, exchanges an invite and chats both ways', async () => {
    await alice.page.goto(appUrl);
    await shot(alice.page, 'desktop-welcome');
    await createIdentity(alice.page, appUrl, 'Alice');
    await createIdentity(bob.page, appUrl, 'Bob');
    await shot(alice.page, 'desktop-empty');
    const link = await inviteLink(alice.page);
    assert.match(link, /#invite=[A-Za-z0-9_-]+$/);
    await qrReady(alice.page);
    await shot(alice.page, 'desktop-invite');

    // Bob opens the link: the app offers to add Alice.
    await bob.page.goto(link);
    await bob.page.getByRole('button', { name: 'Add', exact: true }).click();
    await bob.page.locator('#chat-title', { hasText: 'Alice' }).waitFor();
    await sendText(bob.page, 'Hello Alice, this is Bob');
    await messageLocator(bob.page, 'Hello Alice').waitFor();

    // Alice sees Bob appear with one unread message.
    await alice.page.getByTestId('conversation').filter({ hasText: 'Bob' }).getByTestId('unread').filter({ hasText: '1' }).waitFor();
    await shot(alice.page, 'desktop-unread');
    await openChat(alice.page, 'Bob');
    await messageLocator(alice.page, 'Hello Alice, this is Bob').waitFor();
    await alice.page.getByTestId('unread').waitFor({ state: 'detached' });
    const long = 'A long message that must wrap inside its bubble. '.repeat(12) + 'https://example.org/' + 'x'.repeat(180);
    await sendText(alice.page, 'Hi Bob!');
    await sendText(alice.page, long);
    await messageLocator(bob.page, 'Hi Bob!').waitFor();
    await messageLocator(bob.page, 'https://example.org/').waitFor();
    // Each side has the chat open, so each message is read there and a read receipt comes back.
    await bob.page.locator('[data-testid=message][data-state=read]', { hasText: 'Hello Alice' }).waitFor();
    await alice.page.locator('[data-testid=message][data-state=read]', { hasText: 'Hi Bob!' }).waitFor();
    assert.equal(await alice.page.getByText(/not supported/).count(), 0);
    await shot(alice.page, 'desktop-chat');
    await shot(bob.page, 'desktop-chat-bob');
  });

  it('read receipts can be turned off in settings: then the sender sees delivered, not read', async () => {
    await bob.page.getByRole('button', { name: 'Settings' }).click();
    const toggle = bob.page.getByLabel('Send read receipts');
    assert.equal(await toggle.isChecked(), true);
    assert.equal(await bob.page.getByLabel('Send delivery receipts').isChecked(), true);
    await toggle.uncheck();
    await shot(bob.page, 'desktop-settings');
    await openChat(bob.page, 'Alice');
    await sendText(alice.page, 'read without telling');
    await messageLocator(bob.page, 'read without telling').waitFor();
    // Bob's next message is a barrier: when it arrives, Alice has processed every receipt before it.
    await alice.page.locator('[data-testid=message][data-state=delivered]', { hasText: 'read without telling' }).waitFor();
    await sendText(bob.page, 'barrier after reading');
    await messageLocator(alice.page, 'barrier after reading').waitFor();
    assert.equal(await alice.page.locator('[data-testid=message]', { hasText: 'read without telling' }).getAttribute('data-state'), 'delivered');
    // The setting is kept in the profile: still off after a reload; then back on.
    await bob.page.reload();
    await bob.page.getByRole('button', { name: 'Settings' }).click();
    assert.equal(await bob.page.getByLabel('Send read receipts').isChecked(), false);
    await bob.page.getByLabel('Send read receipts').check();
    await openChat(bob.page, 'Alice');
    await openChat(alice.page, 'Bob');
  });

  it('shows the same safety number on both sides and marks it verified', async () => {
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    await openChat(bob.page, 'Alice');
    await bob.page.getByRole('button', { name: 'Safety number' }).click();
    const a = await alice.page.getByTestId('safety-digits').innerText();
    const b = await bob.page.getByTestId('safety-digits').innerText();
    assert.equal(a.replace(/\s/g, '').length, 60);
    assert.equal(a.replace(/\s/g, ''), b.replace(/\s/g, ''));
    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await alice.page.getByTestId('verified-state').filter({ hasText: 'Verified' }).waitFor();
    await qrReady(alice.page);
    await shot(alice.page, 'desktop-safety');
  });

  it('keeps history and verification across a reload', async () => {
    await alice.page.reload();
    await openChat(alice.page, 'Bob');
    await messageLocator(alice.page, 'Hello Alice, this is Bob').waitFor();
    await messageLocator(alice.page, 'Hi Bob!').waitFor();
    await alice.page.locator('.pane-header .verify-badge.ok').waitFor();
  });

  it('queues messages written offline and delivers them on reconnect', async () => {
    await openChat(bob.page, 'Alice');
    await bob.context.setOffline(true);
    await bob.page.locator('[data-testid=connection]:not([data-state=connected])').waitFor();
    await sendText(bob.page, 'written while offline');
    await bob.page.locator('[data-testid=message][data-state=queued]', { hasText: 'written while offline' }).waitFor();
    await shot(bob.page, 'desktop-offline-queued');
    await bob.context.setOffline(false);
    await messageLocator(alice.page, 'written while offline').waitFor();
    await bob.page.locator('[data-testid=message]:not([data-state=queued])', { hasText: 'written while offline' }).waitFor();
    await bob.page.locator('[data-testid=connection][data-state=connected]').waitFor();
  });

  it('fits a phone screen and a dark theme', async () => {
    await alice.page.setViewportSize(PHONE);
    await alice.page.getByRole('button', { name: 'Back' }).first().click();
    await shot(alice.page, 'phone-list');
    await openChat(alice.page, 'Bob');
    await shot(alice.page, 'phone-chat');
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    await shot(alice.page, 'phone-chat-dark');
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    await qrReady(alice.page);
    await shot(alice.page, 'phone-safety-dark');
    await alice.page.emulateMedia({ colorScheme: 'light' });
  });

  it('renders in Russian when the browser prefers it', async () => {
    const ru = await newUser(chrome.browser, { locale: 'ru-RU', viewport: PHONE });
    await ru.page.goto(appUrl);
    await ru.page.getByRole('button', { name: 'Создать профиль' }).waitFor();
    assert.equal(await ru.page.evaluate(() => document.documentElement.lang), 'ru');
    await shot(ru.page, 'phone-welcome-ru');
    await createIdentity(ru.page, appUrl, 'Ольга');
    await ru.page.getByText('В сети').waitFor();
    await shot(ru.page, 'phone-list-ru');
    await ru.context.close();
  });
});
