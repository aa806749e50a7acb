// Message life in two browsers: reply (quote), reaction, edit, delete for everyone, typing,
// and the disappearing-messages timer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { befriend, createIdentity, launch, messageLocator, newUser, sendText, shot, startRelay } from './harness.mjs';

describe('message life in Chromium', () => {
  let relay, appUrl, chrome, alice, bob;
  before(async () => {
    const r = await startRelay();
    relay = r.relay;
    appUrl = r.address.appUrl;
    chrome = await launch();
    alice = await newUser(chrome.browser);
    bob = await newUser(chrome.browser);
    await createIdentity(alice.page, appUrl, 'Alice');
    await createIdentity(bob.page, appUrl, 'Bob');
    await befriend(alice, 'Alice', bob, 'Bob', 'Hello from Bob');
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
  });

  it('reply, react, edit, delete and timer reach the other browser', async () => {
    // Typing: Alice types, Bob sees "Alice is typing…".
    await alice.page.locator('#composer-input').fill('wri');
    await alice.page.locator('#composer-input').press('t');
    await bob.page.getByTestId('typing').filter({ hasText: 'Alice is typing' }).waitFor();
    await alice.page.locator('#composer-input').fill('');

    // Reply with a quote.
    await messageLocator(alice.page, 'Hello from Bob').getByTestId('reply').click();
    await alice.page.getByTestId('replying').waitFor();
    await sendText(alice.page, 'Replying to you');
    const replyAtBob = messageLocator(bob.page, 'Replying to you');
    await replyAtBob.getByTestId('quote').filter({ hasText: 'Hello from Bob' }).waitFor();

    // Reaction from Bob on Alice's reply.
    await replyAtBob.getByTestId('react').click();
    await replyAtBob.getByTestId('reaction-picker').getByRole('button', { name: '❤️' }).click();
    await messageLocator(alice.page, 'Replying to you').getByTestId('reactions').filter({ hasText: '❤️' }).waitFor();

    // Edit by the author.
    await sendText(alice.page, 'teh typo');
    await messageLocator(bob.page, 'teh typo').waitFor();
    await messageLocator(alice.page, 'teh typo').getByTestId('edit').click();
    await alice.page.getByTestId('editing').waitFor();
    await alice.page.locator('#composer-input').fill('the typo');
    await alice.page.locator('#composer-input').press('Enter');
    await messageLocator(bob.page, 'the typo').getByTestId('edited').waitFor();
    assert.equal(await messageLocator(bob.page, 'the typo').getByTestId('edit').count(), 0, 'only the author may edit');

    // Delete for everyone.
    await sendText(alice.page, 'regrettable');
    await messageLocator(bob.page, 'regrettable').waitFor();
    await messageLocator(alice.page, 'regrettable').getByTestId('delete').click();
    await bob.page.locator('[data-testid=message]', { hasText: 'Message deleted' }).waitFor();
    assert.equal(await messageLocator(bob.page, 'regrettable').count(), 0);

    // Disappearing timer: set by Alice, shown on Bob's side; new messages carry it.
    await alice.page.getByTestId('timer-select').selectOption('3600000');
    await bob.page.waitForFunction(() => (document.querySelector('[data-testid=timer-select]'))?.value === '3600000');
    await sendText(alice.page, 'vanishing soon');
    await messageLocator(bob.page, 'vanishing soon').getByTestId('disappearing').waitFor();
    await shot(alice.page, 'desktop-message-life');
    await shot(bob.page, 'desktop-message-life-bob');
  });
});
