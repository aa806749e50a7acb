// A CLI user and a browser user talk to each other through one relay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, createIdentity, inviteLink, launch, messageLocator, newDeviceOf, newUser, openChat, sendText, shot, startRelay, tempProfile } from './harness.mjs';

describe('CLI user and browser user', () => {
  let relay, address, chrome, web, profile;
  before(async () => {
    ({ relay, address } = await startRelay('/hidden-garden/'));
    chrome = await launch();
    web = await newUser(chrome.browser);
    profile = tempProfile();
  });
  after(async () => {
    await chrome?.close();
    await relay?.stop();
    profile?.remove();
  });

  it('the app lives at a secret path while / stays the cover site', async () => {
    assert.ok(address.appUrl.endsWith('/hidden-garden/'));
    const cover = await (await fetch(address.httpUrl)).text();
    assert.ok(!cover.includes('id="app"'));
    assert.equal((await fetch(new URL('/app/', address.httpUrl))).status, 404);
  });

  it('browser invites, CLI accepts, both write', async () => {
    await cli(profile.dir, ['init', '--relay', address.url, '--name', 'Carol']);
    await createIdentity(web.page, address.appUrl, 'Dana');
    const link = await inviteLink(web.page);
    // The CLI takes the web form of the link too? It takes pigeon://invite/...: convert.
    const sdkLink = 'pigeon://invite/' + link.split('#invite=')[1];
    await cli(profile.dir, ['accept', sdkLink]);
    await cli(profile.dir, ['send', 'Dana', 'hello from the terminal']);
    await openChat(web.page, 'Carol');
    await messageLocator(web.page, 'hello from the terminal').waitFor();
    await sendText(web.page, 'hello from the browser');
    await web.page.locator('[data-testid=message][data-state=sent], [data-testid=message][data-state=delivered]').filter({ hasText: 'hello from the browser' }).waitFor();
    const inbox = JSON.parse(await cli(profile.dir, ['inbox', '--json']));
    assert.ok(inbox.messages.some((m) => m.text === 'hello from the browser'), JSON.stringify(inbox));
    // `pigeon inbox` marks it read: the CLI's read receipt turns the browser's message to "read".
    await web.page.locator('[data-testid=message][data-state=read]', { hasText: 'hello from the browser' }).waitFor();
  });

  it('a new device on the CLI user\'s account: the browser warns and pauses sending until acknowledged', async () => {
    // The CLI cannot link devices yet: make Carol's second device with the SDK, from her profile.
    const carolNew = tempProfile();
    try {
      const laptop = await newDeviceOf(profile.dir, carolNew.dir);
      await laptop.send(laptop.findContact('Dana').id, 'hi, this is my new laptop');
      await laptop.flush();
      await laptop.close();
    } finally {
      carolNew.remove();
    }
    await messageLocator(web.page, 'hi, this is my new laptop').waitFor();
    const banner = web.page.getByTestId('identity-warning');
    await banner.waitFor();
    assert.match(await banner.innerText(), /keys of “Carol” changed/);
    await shot(web.page, 'desktop-key-changed');
    await sendText(web.page, 'is it really you?');
    await web.page.getByText('Sending is paused: acknowledge the key change first.').waitFor();
    assert.equal(await messageLocator(web.page, 'is it really you?').count(), 0);
    // The same-name warning is a different one and does not appear here.
    assert.equal(await web.page.getByTestId('key-warning').count(), 0);
    await banner.getByRole('button', { name: 'Acknowledge and continue' }).click();
    await banner.waitFor({ state: 'detached' });
    await sendText(web.page, 'welcome, new laptop');
    await web.page.locator('[data-testid=message][data-state=sent], [data-testid=message][data-state=delivered], [data-testid=message][data-state=read]').filter({ hasText: 'welcome, new laptop' }).waitFor();
    const inbox = JSON.parse(await cli(profile.dir, ['inbox', '--json']));
    assert.ok(inbox.messages.some((m) => m.text === 'welcome, new laptop'), JSON.stringify(inbox));
  });
});
