import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertCleanError, NO_STACK, json, pigeon, startRelay, tempDir } from './helpers.js';
import type { LiveProcess } from './helpers.js';

const root = tempDir('group');
after(() => root.remove());
const profile = (name: string) => ['--profile', join(root.path, name)];


describe('pigeon group: usage', () => {
  it('has --help and refuses bad subcommands with exit 2', async () => {
    const help = await pigeon(['group', '--help']);
    assert.equal(help.code, 0);
    for (const sub of ['create', 'add', 'remove', 'leave', 'admin', 'rename', 'info', 'list', 'invite', 'join']) assert.match(help.stdout, new RegExp(`\\n  ${sub} `));
    assert.match((await pigeon(['send', '--help'])).stdout, /--group GROUP/);
    assert.match((await pigeon(['chat', '--help'])).stdout, /--group GROUP/);
    assertCleanError(await pigeon(['group', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['group', 'fly', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['group', 'list', '--bogus', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['chat', ...profile('nobody')]), 2);
    const missing = await pigeon(['group', 'list', '--json', ...profile('nobody')]);
    assert.equal(json(missing).error.code, 'NOT_INITIALIZED');
  });
});

describe('pigeon group with a relay process', () => {
  let relay: { proc: LiveProcess; url: string };
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
    for (const name of ['Alice', 'Bob', 'Carol']) {
      const r = await pigeon(['init', '--relay', relay.url, '--name', name, ...profile(name.toLowerCase())]);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const friend of ['bob', 'carol']) {
      const link = json(await pigeon(['invite', '--json', ...profile('alice')])).link as string;
      const accepted = await pigeon(['accept', link, ...profile(friend)]);
      assert.equal(accepted.code, 0, accepted.stderr);
    }
    assert.equal((await pigeon(['inbox', ...profile('alice')])).code, 0);
  });
  after(async () => {
    assert.equal(await relay.proc.stop(), 0);
  });

  it('create, list, info, send --group, inbox, rename, admin, remove, leave', async () => {
    const created = await pigeon(['group', 'create', 'Hikers', 'Bob', 'Carol', '--json', ...profile('alice')]);
    assert.equal(created.code, 0, created.stderr);
    const group = json(created).group;
    assert.equal(group.name, 'Hikers');
    assert.equal(group.members.length, 3);

    const list = await pigeon(['group', 'list', ...profile('alice')]);
    assert.match(list.stdout, /Hikers {2}\(3 members, admin\)/);
    const info = json(await pigeon(['group', 'info', 'hikers', '--json', ...profile('alice')])).group;
    assert.equal(info.id, group.id);

    const sent = await pigeon(['send', '--group', 'Hikers', 'hello', 'hikers', '--json', ...profile('alice')]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(json(sent).state, 'sent');
    assert.equal(json(sent).text, 'hello hikers');

    // Bob's inbox receives the welcome and the message in one run (both are in his mailbox).
    const bobInbox = json(await pigeon(['inbox', '--json', ...profile('bob')]));
    assert.deepEqual(bobInbox.groupMessages.map((m: { text: string }) => m.text), ['hello hikers']);
    assert.equal(bobInbox.groupMessages[0].groupName, 'Hikers');
    const carolHuman = await pigeon(['inbox', ...profile('carol')]);
    assert.match(carolHuman.stdout, /\[Hikers\] Alice: hello hikers/);

    // Bob is not an admin yet.
    const refused = await pigeon(['group', 'rename', 'Hikers', 'Bobs', '--json', ...profile('bob')]);
    assert.equal(json(refused).error.code, 'GROUP_PERMISSION');
    assert.equal(refused.code, 1);

    assert.equal((await pigeon(['group', 'admin', 'Hikers', 'Bob', ...profile('alice')])).code, 0);
    assert.equal((await pigeon(['group', 'rename', 'Hikers', 'Mountain', 'hikers', ...profile('alice')])).code, 0);
    const bobView = json(await pigeon(['group', 'info', group.id.slice(0, 10), '--json', ...profile('bob')]));
    assert.equal(bobView.group.name, 'Hikers', 'not synced yet: info does not connect');
    await pigeon(['inbox', ...profile('bob')]);
    const synced = json(await pigeon(['group', 'info', group.id.slice(0, 10), '--json', ...profile('bob')])).group;
    assert.equal(synced.name, 'Mountain hikers');
    assert.equal(synced.isAdmin, true);

    // Bob (now admin) sends; Carol (not his contact) reads it through the member card.
    assert.equal((await pigeon(['send', '--group', 'Mountain hikers', 'from bob', ...profile('bob')])).code, 0);
    const carolInbox = json(await pigeon(['inbox', '--json', ...profile('carol')]));
    assert.deepEqual(carolInbox.groupMessages.map((m: { text: string }) => m.text), ['from bob']);

    const removed = await pigeon(['group', 'remove', 'Mountain hikers', 'Carol', '--json', ...profile('alice')]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(json(removed).group.members.length, 2);
    await pigeon(['send', '--group', 'Mountain hikers', 'without carol', ...profile('alice')]);
    const carolAfter = json(await pigeon(['inbox', '--json', ...profile('carol')]));
    assert.deepEqual(carolAfter.groupMessages, []);
    const carolList = await pigeon(['group', 'list', ...profile('carol')]);
    assert.match(carolList.stdout, /left/);

    const left = await pigeon(['group', 'leave', 'Mountain hikers', ...profile('bob')]);
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stdout, /Left: /);
  });

  it('clear errors: unknown group, unknown contact, bad link', async () => {
    const unknown = await pigeon(['send', '--group', 'Nope', 'x', '--json', ...profile('alice')]);
    assert.equal(json(unknown).error.code, 'UNKNOWN_GROUP');
    assertCleanError(unknown);
    const noContact = await pigeon(['group', 'create', 'X', 'Zed', '--json', ...profile('alice')]);
    assert.equal(json(noContact).error.code, 'UNKNOWN_CONTACT');
    const badLink = await pigeon(['group', 'join', 'pigeon://group/AAAA', '--json', ...profile('bob')]);
    assert.equal(json(badLink).error.code, 'BAD_LINK');
  });

  it('invite and join by link', async () => {
    const created = await pigeon(['group', 'create', 'Open', '--json', ...profile('alice')]);
    assert.equal(created.code, 0, created.stderr);
    const invite = await pigeon(['group', 'invite', 'Open', '--json', ...profile('alice')]);
    const link = json(invite).link as string;
    assert.match(link, /^pigeon:\/\/group\//);
    const joined = await pigeon(['group', 'join', link, ...profile('carol')]);
    assert.equal(joined.code, 0, joined.stderr);
    // Alice's device sees the request and adds Carol; Carol's next inbox brings the welcome.
    await pigeon(['inbox', ...profile('alice')]);
    assert.equal((await pigeon(['send', '--group', 'Open', 'welcome carol', ...profile('alice')])).code, 0);
    const carolInbox = json(await pigeon(['inbox', '--json', ...profile('carol')]));
    assert.deepEqual(carolInbox.groupMessages.map((m: { text: string }) => m.text), ['welcome carol']);
  });

  it('group send-file: uploaded once, listed with its id in inbox and history, pigeon download fetches it', async () => {
    const created = await pigeon(['group', 'create', 'Files', 'Bob', 'Carol', '--json', ...profile('alice')]);
    assert.equal(created.code, 0, created.stderr);
    const bytes = new Uint8Array(120_000).map((_, i) => (i * 29) & 0xff);
    const source = join(root.path, 'plan.bin');
    writeFileSync(source, bytes);
    const sent = await pigeon(['group', 'send-file', 'Files', source, '--caption', 'the plan', '--json', ...profile('alice')]);
    assert.equal(sent.code, 0, sent.stderr);
    const lines = sent.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.event === 'progress' && l.phase === 'upload'), 'progress lines with --json');
    const message = lines.at(-1);
    assert.equal(message.state, 'sent');
    assert.deepEqual(message.attachment, { fileName: 'plan.bin', contentType: 'application/octet-stream', size: 120_000 });
    assert.equal(message.groupName, 'Files');

    const bobInbox = await pigeon(['inbox', ...profile('bob')]);
    assert.equal(bobInbox.code, 0, bobInbox.stderr);
    assert.match(bobInbox.stdout, new RegExp(`\\[Files\\] Alice: \\[file\\] plan\\.bin \\(117 KB\\) the plan {2}\\(pigeon download ${message.id}\\)`));
    const dest = join(root.path, 'plan-bob.bin');
    const got = await pigeon(['download', message.id.slice(0, 10), dest, ...profile('bob')]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(dest)), bytes);

    await pigeon(['inbox', ...profile('carol')]);
    const history = json(await pigeon(['group', 'history', 'Files', '--json', ...profile('carol')]));
    const file = history.messages.find((m: { id: string }) => m.id === message.id);
    assert.equal(file.attachment.fileName, 'plan.bin');
    const listed = json(await pigeon(['download', '--list', '--json', ...profile('carol')]));
    assert.ok(listed.attachments.some((a: { id: string }) => a.id === message.id));
    const carolDest = join(root.path, 'plan-carol.bin');
    assert.equal((await pigeon(['download', message.id, carolDest, ...profile('carol')])).code, 0);
    assert.deepEqual(new Uint8Array(readFileSync(carolDest)), bytes);

    const missing = await pigeon(['group', 'send-file', 'Files', join(root.path, 'nope.bin'), '--json', ...profile('alice')]);
    assert.equal(missing.code, 1);
    assert.ok(json(missing).error.code);
  });
});
