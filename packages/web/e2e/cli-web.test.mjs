// A CLI user and a browser user talk to each other through one relay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, createIdentity, inviteLink, launch, messageLocator, newUser, openChat, sendText, startRelay, tempProfile } from './harness.mjs';

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
    // The CLI's receipt turns the browser's message to "delivered".
    await web.page.locator('[data-testid=message][data-state=delivered]', { hasText: 'hello from the browser' }).waitFor();
  });
});
