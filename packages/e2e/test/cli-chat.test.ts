/**
 * Two `pigeon` CLI users talking through a relay started as a separate process, as people
 * would: interactive `pigeon chat` on both sides at once (with delivery states), a chat line
 * typed while the contact is offline, and `pigeon listen --json` receiving while the other
 * side types, including the backlog it missed while it was not running. (The basic
 * init/invite/accept/send/inbox flow is in packages/cli/test/cli.test.ts.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, livePigeon, pigeonJson, startRelay, tempDir } from '../src/support/processes.js';
import type { LiveProcess, RelayProcess } from '../src/support/processes.js';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** How `pigeon chat` shows an incoming line: "[date time] Name: text". */
const incomingLine = (from: string, text: string) => new RegExp(`^\\[[^\\]]+\\] ${from}: ${escape(text)}$`);
/** How `pigeon chat` shows a state change of one of our messages (texts here are < 30 chars). */
const stateLine = (text: string, state: string) => new RegExp(`^  -> "${escape(text)}" ${state}$`);
/** Delivered, or already further along (a read receipt may overtake the delivery receipt). */
const DELIVERED = '(delivered|read)';

async function quit(chat: LiveProcess): Promise<void> {
  chat.write('/quit\n');
  const exit = await chat.exited;
  assert.equal(exit.code, 0, chat.describe());
}

describe('two CLI users through a relay process', () => {
  const dir = tempDir('cli');
  const profile = (name: string) => ['--profile', join(dir.path, name)];
  let relay: RelayProcess;

  before(async () => {
    relay = await startRelay(join(dir.path, 'relay-data'));
    await Promise.all([
      pigeonJson(['init', '--relay', relay.url, '--name', 'Alice', ...profile('alice')]),
      pigeonJson(['init', '--relay', relay.url, '--name', 'Bob', ...profile('bob')]),
    ]);
    const { link } = await pigeonJson(['invite', ...profile('alice')]);
    await pigeonJson(['accept', link, ...profile('bob')]);
    const first = await pigeonJson(['inbox', ...profile('alice')]);
    assert.equal(first.newContacts[0].name, 'Bob');
  });

  after(async () => {
    await killAll();
    dir.remove();
  });

  it('pigeon chat on both sides: lines go both ways and each sender sees "delivered"', async () => {
    const alice = livePigeon('alice chat', ['chat', 'Bob', ...profile('alice')]);
    const bob = livePigeon('bob chat', ['chat', 'Alice', ...profile('bob')]);
    await Promise.all([alice.waitForLine('alice connected', /^\(connected\)$/), bob.waitForLine('bob connected', /^\(connected\)$/)]);

    alice.write('hello Bob, from chat\n');
    await bob.waitForLine('alice\'s line at bob', incomingLine('Alice', 'hello Bob, from chat'));
    await alice.waitForLine('delivered at alice', stateLine('hello Bob, from chat', DELIVERED));

    bob.write('hi Alice, got it\n');
    await alice.waitForLine('bob\'s line at alice', incomingLine('Bob', 'hi Alice, got it'));
    await bob.waitForLine('delivered at bob', stateLine('hi Alice, got it', DELIVERED));

    // Both type several lines at once.
    const fromAlice = ['a1', 'a2', 'a3', 'a4'];
    const fromBob = ['b1', 'b2', 'b3', 'b4'];
    alice.write(fromAlice.map((t) => `${t}\n`).join(''));
    bob.write(fromBob.map((t) => `${t}\n`).join(''));
    for (const t of fromAlice) {
      await bob.waitForLine(`${t} at bob`, incomingLine('Alice', t));
      await alice.waitForLine(`${t} delivered`, stateLine(t, DELIVERED));
    }
    for (const t of fromBob) {
      await alice.waitForLine(`${t} at alice`, incomingLine('Bob', t));
      await bob.waitForLine(`${t} delivered`, stateLine(t, DELIVERED));
    }
    await Promise.all([quit(alice), quit(bob)]);

    // Each line was shown exactly once on the other side.
    for (const t of [...fromAlice, 'hello Bob, from chat']) assert.equal(bob.lines.filter((l) => incomingLine('Alice', t).test(l)).length, 1, t);
    for (const t of [...fromBob, 'hi Alice, got it']) assert.equal(alice.lines.filter((l) => incomingLine('Bob', t).test(l)).length, 1, t);
    // The chats marked what they showed as read.
    assert.deepEqual((await pigeonJson(['inbox', ...profile('alice')])).messages, []);
    assert.deepEqual((await pigeonJson(['inbox', ...profile('bob')])).messages, []);
  });

  it('a chat line typed while the contact is offline is "sent", then "delivered" once they come online', async () => {
    const bob = livePigeon('bob chat', ['chat', 'Alice', ...profile('bob')]);
    await bob.waitForLine('bob connected', /^\(connected\)$/);
    bob.write('are you there?\n');
    await bob.waitForLine('sent', stateLine('are you there?', 'sent'));
    assert.ok(!bob.lines.some((l) => stateLine('are you there?', DELIVERED).test(l)), 'not delivered while Alice runs nothing');

    const inbox = await pigeonJson(['inbox', ...profile('alice')]);
    assert.deepEqual(inbox.messages.map((m: { text: string }) => m.text), ['are you there?']);
    await bob.waitForLine('delivered', stateLine('are you there?', DELIVERED));
    await quit(bob);
  });

  it('listen --json receives while the other side types, and after a restart gets what it missed', async () => {
    const listen = livePigeon('bob listen', ['listen', '--json', ...profile('bob')]);
    await listen.waitForEvent('bob connected', (e) => e.event === 'connection' && e.state === 'connected');

    const typed = ['live 1', 'live 2', 'live 3', 'live 4', 'live 5', 'live 6'];
    const chat = livePigeon('alice chat --json', ['chat', 'Bob', '--json', ...profile('alice')]);
    await chat.waitForEvent('alice connected', (e) => e.event === 'connection' && e.state === 'connected');
    chat.write(typed.map((t) => `${t}\n`).join(''));
    await listen.waitUntil('every typed line', () => typed.every((t) => listen.events.some((e) => e.event === 'message' && e.text === t)));
    await quit(chat);

    const ids = chat.events.filter((e) => e.event === 'sent').map((e) => e.id as string);
    assert.equal(ids.length, typed.length);
    for (const id of ids) {
      const states = chat.events.filter((e) => e.event === 'status' && e.id === id).map((e) => e.state);
      assert.ok(states.some((x) => x !== 'queued' && x !== 'failed'), `the relay acknowledged ${id}: ${states}`);
    }
    const received = listen.events.filter((e) => e.event === 'message');
    assert.deepEqual(received.map((e) => e.id).sort(), [...ids].sort(), 'each typed line arrived exactly once');
    assert.ok(received.every((e) => e.contactName === 'Alice' && e.direction === 'in'));

    // Bob stops listening; Alice sends; Bob's next listen gets the backlog, once.
    assert.equal((await listen.kill('SIGINT')).code, 0);
    const missed = ['while you were away 1', 'while you were away 2'];
    for (const text of missed) assert.equal((await pigeonJson(['send', 'Bob', text, ...profile('alice')])).state, 'sent');
    const again = livePigeon('bob listen (again)', ['listen', '--json', ...profile('bob')]);
    await again.waitUntil('the backlog', () => missed.every((t) => again.events.some((e) => e.event === 'message' && e.text === t)));
    assert.equal((await again.kill('SIGINT')).code, 0);
    assert.deepEqual(again.events.filter((e) => e.event === 'message').map((e) => e.text).sort(), [...missed].sort());
    for (const line of again.lines) JSON.parse(line);
    assert.deepEqual((await pigeonJson(['inbox', ...profile('bob')])).messages, [], 'listen marked them read');
  });

  it('the relay process shuts down cleanly', async () => {
    assert.equal((await relay.proc.kill('SIGTERM')).code, 0);
  });
});
