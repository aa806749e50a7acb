// The installed-app behaviour: the service worker's app shell opens offline with history from
// IndexedDB, and a hidden tab gets a notification for a new message (sender only, no text).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { befriend, createIdentity, launch, messageLocator, newUser, openChat, sendText, shot, startRelay } from './harness.mjs';

/**
 * Runs in the page before the app: records notifications instead of showing them, and lets the
 * test decide what document.hidden says (headless pages are always "visible").
 */
function fakeNotificationsAndVisibility() {
  window.__shown = [];
  window.__hidden = false;
  const Real = window.Notification;
  function RecordingNotification(title, options = {}) {
    window.__shown.push({ title, body: options.body ?? '', tag: options.tag ?? '' });
    this.close = () => undefined;
  }
  Object.defineProperty(RecordingNotification, 'permission', { get: () => (Real ? Real.permission : 'default') });
  RecordingNotification.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = RecordingNotification;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible') });
}

async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    window.__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describe('service worker and notifications in Chromium', () => {
  let relay, appUrl, chrome, alice, bob;
  before(async () => {
    const r = await startRelay();
    relay = r.relay;
    appUrl = r.address.appUrl;
    chrome = await launch();
    alice = await newUser(chrome.browser);
    bob = await newUser(chrome.browser);
    await alice.page.addInitScript(fakeNotificationsAndVisibility);
    await createIdentity(alice.page, appUrl, 'Alice');
    await createIdentity(bob.page, appUrl, 'Bob');
    await befriend(alice, 'Alice', bob, 'Bob', 'kept for offline reading');
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
  });

  it('opens offline from the app-shell cache and shows history from IndexedDB', async () => {
    // The worker installed on the first visit and claimed the page.
    await alice.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await alice.context.setOffline(true);
    await alice.page.reload();
    await alice.page.getByRole('heading', { name: 'Pigeon' }).waitFor();
    await alice.page.locator('[data-testid=connection]:not([data-state=connected])').waitFor();
    await openChat(alice.page, 'Bob');
    await messageLocator(alice.page, 'kept for offline reading').waitFor();
    await shot(alice.page, 'desktop-offline-shell');
    await alice.context.setOffline(false);
    await alice.page.locator('[data-testid=connection][data-state=connected]').waitFor();
  });

  it('notifies about a new message while the tab is hidden, naming the sender but not the text', async () => {
    await alice.context.grantPermissions(['notifications'], { origin: new URL(appUrl).origin });
    await alice.page.reload();
    await alice.page.locator('[data-testid=connection][data-state=connected]').waitFor();
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await alice.page.getByText('Notifications are on.').waitFor();
    assert.equal(await alice.page.evaluate(() => Notification.permission), 'granted');

    // Visible tab: no notification.
    await openChat(bob.page, 'Alice');
    await sendText(bob.page, 'seen while you look');
    await alice.page.getByTestId('conversation').filter({ hasText: 'Bob' }).waitFor();
    await openChat(alice.page, 'Bob');
    await messageLocator(alice.page, 'seen while you look').waitFor();
    assert.deepEqual(await alice.page.evaluate(() => window.__shown), []);

    // Hidden tab: one notification that says who, never what.
    await setHidden(alice.page, true);
    await sendText(bob.page, 'the secret plan for tomorrow');
    await alice.page.waitForFunction(() => window.__shown.length > 0);
    const shown = await alice.page.evaluate(() => window.__shown);
    assert.equal(shown.length, 1);
    assert.match(shown[0].title, /Bob/);
    assert.doesNotMatch(shown[0].title + shown[0].body, /secret plan/);
    // While hidden the message stays unread: no read receipt goes out for it.
    assert.notEqual(await bob.page.locator('[data-testid=message]', { hasText: 'the secret plan' }).getAttribute('data-state'), 'read');
    await setHidden(alice.page, false);
    await bob.page.locator('[data-testid=message][data-state=read]', { hasText: 'the secret plan' }).waitFor();
  });
});
