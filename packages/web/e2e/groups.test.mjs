// Groups in the browser: Alice creates a group with Bob and Carol (three browsers), messages flow
// every way with the author named, a photo sent to the group shows inline for the others and a
// file offers Download, Carol is removed (she sees it and gets nothing after), Dave
// joins by pasting the invite link, a CLI user joins by the same kind of link, and the group
// survives a page reload (IndexedDB).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, createIdentity, inviteLink, launch, messageLocator, newUser, qrReady, sendText, shot, startRelay, tempProfile } from './harness.mjs';
import { png } from './png.mjs';

const GROUP = 'Hikers';

/** `from` invites `to` by a contact link; both end up with each other as contacts. */
async function connect(from, to, toName) {
  // Leave an open invite panel first: a link works once, and re-opening the panel makes a new one.
  await from.page.getByTestId('new-group-button').click();
  const link = await inviteLink(from.page);
  await to.page.goto(link);
  await to.page.getByRole('button', { name: 'Add', exact: true }).click();
  await to.page.locator('#chat-title').waitFor();
  await from.page.getByTestId('conversation').filter({ hasText: toName }).waitFor();
}

async function openGroup(page) {
  await page.locator('[data-testid=conversation][data-kind=group]', { hasText: GROUP }).click();
  await page.locator('[data-testid=group-chat] #chat-title', { hasText: GROUP }).waitFor();
}

/** A message in the open group chat, from `sender` (its label) with `text`. */
function fromSender(page, sender, text) {
  return page.locator('[data-testid=message]', { has: page.locator('[data-testid=sender]', { hasText: sender }) }).filter({ hasText: text });
}

async function openInfo(page) {
  await page.getByTestId('group-info').click();
  await page.getByTestId('group-info-panel').waitFor();
}

describe('groups in the web app', () => {
  let relay, appUrl, relayUrl, chrome, alice, bob, carol, dave, erin;
  before(async () => {
    const r = await startRelay();
    relay = r.relay;
    appUrl = r.address.appUrl;
    relayUrl = r.address.url;
    chrome = await launch();
    alice = await newUser(chrome.browser);
    bob = await newUser(chrome.browser);
    carol = await newUser(chrome.browser);
    dave = await newUser(chrome.browser);
    erin = tempProfile();
    for (const u of [alice, bob, carol, dave]) u.page.on('dialog', (d) => void d.accept());
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
    erin?.remove();
  });

  it('creates a group with two contacts; messages flow every way, each labelled with its author', async () => {
    await createIdentity(alice.page, appUrl, 'Alice');
    await createIdentity(bob.page, appUrl, 'Bob');
    await createIdentity(carol.page, appUrl, 'Carol');
    await connect(alice, bob, 'Bob');
    await connect(alice, carol, 'Carol');

    await alice.page.getByTestId('new-group-button').click();
    await alice.page.locator('#group-name').fill(GROUP);
    await alice.page.locator('label.check', { hasText: 'Bob' }).locator('input').check();
    await alice.page.locator('label.check', { hasText: 'Carol' }).locator('input').check();
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.locator('[data-testid=group-chat] #chat-title', { hasText: GROUP }).waitFor();
    assert.match(await alice.page.getByTestId('member-count').innerText(), /3 members/);

    // Bob and Carol see the group appear in their lists.
    for (const u of [bob, carol]) await u.page.locator('[data-testid=conversation][data-kind=group]', { hasText: GROUP }).waitFor();

    await sendText(alice.page, 'Trail at 8, who is in?');
    // Bob has not opened the group: one unread in the list.
    await bob.page.locator('[data-testid=conversation][data-kind=group]', { hasText: GROUP }).getByTestId('unread').filter({ hasText: '1' }).waitFor();
    await openGroup(bob.page);
    await fromSender(bob.page, 'Alice', 'Trail at 8').waitFor();
    await bob.page.locator('[data-testid=conversation][data-kind=group] [data-testid=unread]').waitFor({ state: 'detached' });
    await sendText(bob.page, 'Count me in');
    await fromSender(alice.page, 'Bob', 'Count me in').waitFor();
    await openGroup(carol.page);
    await fromSender(carol.page, 'Alice', 'Trail at 8').waitFor();
    // Bob was not Carol's contact: the group introduced him (his name comes with the member cards).
    await fromSender(carol.page, 'Bob', 'Count me in').waitFor();
    await sendText(carol.page, 'Me too, bringing snacks');
    await fromSender(alice.page, 'Carol', 'bringing snacks').waitFor();
    await fromSender(bob.page, 'Carol', 'bringing snacks').waitFor();
    // Our own messages carry no author label and leave "queued" once the relay has every copy
    // (then delivered/read as members' receipts come back).
    await alice.page.locator('[data-testid=message]:is([data-state=sent], [data-state=delivered], [data-state=read])', { hasText: 'Trail at 8' }).waitFor();
    assert.equal(await alice.page.locator('[data-testid=message]', { hasText: 'Trail at 8' }).getByTestId('sender').count(), 0);
    await shot(alice.page, 'desktop-group-chat');
  });

  it('a photo sent to the group shows inline for the other members; a file offers Download', async () => {
    await alice.page.getByTestId('attach-input').setInputFiles({ name: 'summit.png', mimeType: 'image/png', buffer: png(240, 160) });
    // The sender's own bubble shows it at once (no download back).
    await alice.page.locator('[data-testid=message] [data-testid=attachment-image]').waitFor();
    for (const u of [bob, carol]) {
      const bubble = fromSender(u.page, 'Alice', '').filter({ has: u.page.getByTestId('attachment-image') });
      await bubble.waitFor();
      // Downloaded, verified, decrypted and decoded by the browser from a blob: URL.
      await u.page.waitForFunction(() => [...document.querySelectorAll('[data-testid=attachment-image]')].some((i) => i instanceof HTMLImageElement && i.complete && i.naturalWidth === 240));
      assert.deepEqual(await bubble.getByTestId('attachment-image').evaluate((el) => [el.naturalWidth, el.naturalHeight, el.src.startsWith('blob:')]), [240, 160, true]);
    }
    await bob.page.getByTestId('attach-input').setInputFiles({ name: 'route.gpx', mimeType: 'application/gpx+xml', buffer: Buffer.from('<gpx>the trail</gpx>') });
    const file = fromSender(carol.page, 'Bob', 'route.gpx');
    await file.getByTestId('attachment-download').waitFor();
    assert.equal(await file.getByTestId('attachment').getAttribute('data-kind'), 'file');
    await fromSender(alice.page, 'Bob', 'route.gpx').getByTestId('attachment-download').waitFor();
    await shot(carol.page, 'desktop-group-attachments');
  });

  it('the info panel shows members with the admin badge; Bob (no admin) sees why he cannot change the group', async () => {
    await openInfo(alice.page);
    const members = alice.page.getByTestId('member');
    assert.equal(await members.count(), 3);
    await members.filter({ hasText: 'You' }).getByTestId('admin-badge').waitFor();
    assert.equal(await members.filter({ hasText: 'Bob' }).getByTestId('admin-badge').count(), 0);
    await shot(alice.page, 'desktop-group-info');
    await openInfo(bob.page);
    await bob.page.getByTestId('group-permission').filter({ hasText: 'Only an admin' }).waitFor();
    assert.equal(await bob.page.getByTestId('remove-member').count(), 0);
    assert.equal(await bob.page.getByTestId('create-group-invite').count(), 0);
    // Alice makes Bob an admin: his panel updates live and now offers the changes.
    await members.filter({ hasText: 'Bob' }).getByTestId('toggle-admin').click();
    await members.filter({ hasText: 'Bob' }).getByTestId('admin-badge').waitFor();
    await bob.page.getByTestId('group-permission').waitFor({ state: 'detached' });
    await bob.page.getByTestId('create-group-invite').waitFor();
    await openGroup(bob.page);
  });

  it('removing Carol: she sees it, and gets nothing sent after', async () => {
    await alice.page.getByTestId('member').filter({ hasText: 'Carol' }).getByTestId('remove-member').click();
    await alice.page.getByTestId('member').filter({ hasText: 'Carol' }).waitFor({ state: 'detached' });
    await carol.page.getByTestId('group-removed').waitFor();
    assert.equal(await carol.page.locator('#composer-input').isDisabled(), true);
    await openGroup(alice.page);
    await sendText(alice.page, 'Plan B: the lake (Carol is out)');
    await fromSender(bob.page, 'Alice', 'Plan B').waitFor();
    // A 1:1 message sent after it is a barrier: once Carol has it, she would have had the group one.
    await alice.page.locator('[data-testid=conversation]:not([data-kind=group])', { hasText: 'Carol' }).click();
    await alice.page.locator('#chat-title', { hasText: 'Carol' }).waitFor();
    await sendText(alice.page, 'sorry Carol, 1:1 barrier');
    await carol.page.getByTestId('conversation').filter({ hasText: 'Alice' }).filter({ hasText: 'barrier' }).waitFor();
    assert.equal(await messageLocator(carol.page, 'Plan B').count(), 0);
    await shot(carol.page, 'desktop-group-removed');
  });

  it('Dave joins by pasting the invite link; a CLI user joins by the same kind of link', async () => {
    await openGroup(alice.page);
    await openInfo(alice.page);
    await alice.page.getByTestId('create-group-invite').click();
    const box = alice.page.getByTestId('group-invite-link');
    await box.waitFor();
    const webLink = await box.inputValue();
    assert.match(webLink, /#group=[A-Za-z0-9_-]+$/);
    await qrReady(alice.page);
    await shot(alice.page, 'desktop-group-invite');

    await createIdentity(dave.page, appUrl, 'Dave');
    await dave.page.getByRole('button', { name: 'Add contact' }).click();
    await dave.page.locator('#accept-link').fill(webLink);
    await dave.page.getByRole('button', { name: 'Add', exact: true }).click();
    // The admin's device (Alice, online) adds Dave; the group opens by itself when the welcome arrives.
    await dave.page.locator('[data-testid=group-chat] #chat-title', { hasText: GROUP }).waitFor();
    await alice.page.getByTestId('member').filter({ hasText: 'Dave' }).waitFor();
    await sendText(dave.page, 'Hi all, Dave here');
    await fromSender(bob.page, 'Dave', 'Dave here').waitFor();
    await openGroup(alice.page);
    await fromSender(alice.page, 'Dave', 'Dave here').waitFor();

    // The CLI takes the pigeon://group/ form of the same link (a new one: its contact invite works once).
    await openInfo(alice.page);
    await alice.page.getByTestId('create-group-invite').click();
    await alice.page.getByTestId('group-invite-link').filter({ hasNotText: webLink }).waitFor();
    const second = await alice.page.getByTestId('group-invite-link').inputValue();
    assert.notEqual(second, webLink);
    await cli(erin.dir, ['init', '--relay', relayUrl, '--name', 'Erin']);
    await cli(erin.dir, ['group', 'join', 'pigeon://group/' + second.split('#group=')[1]]);
    await alice.page.getByTestId('member').filter({ hasText: 'Erin' }).waitFor();
    // Erin's welcome is on its way once Alice added her; the CLI waits for it as it sends.
    let sent = false;
    for (let i = 0; i < 20 && !sent; i++) {
      try {
        await cli(erin.dir, ['send', '--group', GROUP, 'hello from the terminal']);
        sent = true;
      } catch (err) {
        if (!/UNKNOWN_GROUP|no group/i.test(String(err))) throw err;
        await cli(erin.dir, ['inbox', '--json']); // receives (the welcome) before the next try
      }
    }
    assert.ok(sent, 'the CLI user could send to the group');
    await openGroup(alice.page);
    await fromSender(alice.page, 'Erin', 'hello from the terminal').waitFor();
    await fromSender(dave.page, 'Erin', 'hello from the terminal').waitFor();
  });

  it('survives a page reload (IndexedDB): the group, its history and its keys', async () => {
    await alice.page.reload();
    await alice.page.locator('[data-testid=connection][data-state=connected]').waitFor();
    await openGroup(alice.page);
    await fromSender(alice.page, 'Bob', 'Count me in').waitFor();
    await fromSender(alice.page, 'Carol', 'bringing snacks').waitFor();
    await bob.page.reload();
    await bob.page.locator('[data-testid=connection][data-state=connected]').waitFor();
    await openGroup(bob.page);
    // Both reloaded: Bob's sender key and Alice's copy of it came back from IndexedDB.
    await sendText(bob.page, 'after the reload');
    await fromSender(alice.page, 'Bob', 'after the reload').waitFor();
    await sendText(alice.page, 'still here');
    await fromSender(bob.page, 'Alice', 'still here').waitFor();
    assert.equal(await alice.page.getByTestId('member-count').innerText(), '4 members');
    await shot(alice.page, 'desktop-group-chat-reloaded');
  });
});
