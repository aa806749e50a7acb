/**
 * Message life through real `pigeon` processes: reply, react, edit, delete, timer, block,
 * unblock, report, requests, and what `chat` shows (replies, reactions, edits, deletions,
 * "… is typing").
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeInviteLink, encodeInviteLink } from '@pigeon/client';
import { LiveProcess, json, pigeon, startRelay, tempDir } from './helpers.js';

const root = tempDir('cli-life');
after(() => root.remove());
const profile = (name: string) => ['--profile', join(root.path, name)];

describe('pigeon message life', () => {
  let relay: { proc: LiveProcess; url: string };
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
    for (const name of ['alice', 'bob']) {
      const r = await pigeon(['init', '--relay', relay.url, '--name', name === 'alice' ? 'Alice' : 'Bob', ...profile(name)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const link = json(await pigeon(['invite', '--json', ...profile('alice')])).link as string;
    assert.equal((await pigeon(['accept', link, ...profile('bob')])).code, 0);
    await pigeon(['inbox', ...profile('alice')]);
  });
  after(async () => {
    assert.equal(await relay.proc.stop(), 0);
  });

  it('reply, react, edit, delete, and timer reach the other side', async () => {
    const sent = json(await pigeon(['send', 'Bob', 'first', 'message', '--json', ...profile('alice')]));
    await pigeon(['inbox', ...profile('bob')]);
    const reply = await pigeon(['reply', 'Alice', sent.id.slice(0, 10), 'an', 'answer', '--json', ...profile('bob')]);
    assert.equal(reply.code, 0, reply.stderr);
    assert.equal(json(reply).replyTo, sent.id);
    const react = await pigeon(['react', sent.id.slice(0, 8), '👍', ...profile('bob')]);
    assert.equal(react.code, 0, react.stderr);
    const inbox = await pigeon(['inbox', ...profile('alice')]);
    assert.match(inbox.stdout, /Bob: ↪ "first message" an answer/);

    const history = await pigeon(['chat', 'Bob', ...profile('alice')], { input: '/quit\n' });
    assert.match(history.stdout, /you -> Bob: first message \(.+\) \[👍\]/);

    assert.equal((await pigeon(['edit', sent.id.slice(0, 8), 'edited', 'text', ...profile('alice')])).code, 0);
    const own = await pigeon(['edit', json(reply).id.slice(0, 8), 'nope', '--json', ...profile('alice')]);
    assert.equal(own.code, 1);
    assert.equal(JSON.parse(own.stdout.trim().split('\n').at(-1)!).error.code, 'BAD_ARGUMENT');
    assert.equal((await pigeon(['delete', sent.id.slice(0, 8), ...profile('alice')])).code, 0);
    await pigeon(['inbox', ...profile('bob')]);
    const bobView = await pigeon(['chat', 'Alice', ...profile('bob')], { input: '/quit\n' });
    assert.match(bobView.stdout, /Alice: \(message deleted\)/);

    const timer = await pigeon(['timer', 'Bob', '1h', '--json', ...profile('alice')]);
    assert.equal(json(timer).timerMs, 3_600_000);
    await pigeon(['inbox', ...profile('bob')]);
    assert.match((await pigeon(['timer', 'Alice', ...profile('bob')])).stdout, /Disappearing messages with Alice: 1h/);
    assert.equal((await pigeon(['timer', 'Bob', 'soon', ...profile('alice')])).code, 1);
    assert.equal((await pigeon(['timer', 'Bob', 'off', ...profile('alice')])).code, 0);
  });

  it('chat shows typing, reactions and edits as they happen', async () => {
    const bobChat = new LiveProcess(['chat', 'Alice', '--json', ...profile('bob')]);
    try {
      await bobChat.waitForJson((v) => v.event === 'connection' && v.state === 'connected');
      const aliceChat = new LiveProcess(['chat', 'Bob', ...profile('alice')]);
      try {
        await new Promise((r) => aliceChat.child.stdout!.once('data', r));
        aliceChat.child.stdin!.write('typing here');
        await bobChat.waitForJson((v) => v.event === 'typing' && v.typing === true);
        aliceChat.child.stdin!.write(' and done\n');
        const m = await bobChat.waitForJson((v) => v.event === 'message' && v.text === 'typing here and done');
        const r = await pigeon(['react', m.id.slice(0, 8), '🎉', ...profile('bob')]);
        assert.equal(r.code, 0, r.stderr);
        await aliceChat.waitForLine((l) => /Bob reacted to "typing here and done"\) \[🎉\]/.test(l));
        aliceChat.child.stdin!.write('/quit\n');
        assert.equal(await aliceChat.exited, 0);
      } finally {
        await aliceChat.stop();
      }
    } finally {
      await bobChat.stop();
    }
  });

  it('block, report and unblock; requests are listed apart and can be accepted', async () => {
    for (const name of ['carol']) assert.equal((await pigeon(['init', '--relay', relay.url, '--name', 'Carol', ...profile(name)])).code, 0);
    const invite = decodeInviteLink(json(await pigeon(['invite', '--json', ...profile('alice')])).link);
    const forged = encodeInviteLink({ ...invite, inviteSecret: new Uint8Array(invite.inviteSecret.length).fill(5) });
    assert.equal((await pigeon(['accept', forged, ...profile('carol')])).code, 0);
    assert.equal((await pigeon(['send', 'Alice', 'hi from carol', ...profile('carol')])).code, 0);
    const inbox = json(await pigeon(['inbox', '--json', ...profile('alice')]));
    assert.equal(inbox.messages.length, 0, 'not in the normal list');
    assert.equal(inbox.requests.length, 1);
    const list = await pigeon(['requests', ...profile('alice')]);
    assert.match(list.stdout, /Carol .* 1 message\(s\)/);
    assert.match(list.stdout, /hi from carol/);
    const accepted = await pigeon(['requests', 'accept', inbox.requests[0].id.slice(0, 8), ...profile('alice')]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /Carol is now a contact/);

    const blocked = json(await pigeon(['block', 'Bob', '--json', ...profile('alice')]));
    assert.equal(blocked.tokenRotated, true);
    const refused = json(await pigeon(['send', 'Alice', 'are you there', '--json', ...profile('bob')]));
    assert.equal(refused.state, 'failed');
    assert.equal((await pigeon(['unblock', 'Bob', ...profile('alice')])).code, 0);
    const reported = json(await pigeon(['report', 'Carol', 'spam', '--json', ...profile('alice')]));
    assert.equal(reported.event, 'reported');
  });
});
