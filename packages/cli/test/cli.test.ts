import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../src/main.js';
import { LiveProcess, NO_STACK, json, pigeon, startRelay, tempDir } from './helpers.js';

const root = tempDir('main');
after(() => root.remove());
const profile = (name: string) => ['--profile', join(root.path, name)];

function assertCleanError(r: { code: number | null; stderr: string }, exitCode = 1): void {
  assert.equal(r.code, exitCode);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, /^pigeon: /);
  assert.doesNotMatch(r.stderr, NO_STACK);
}

describe('pigeon --help and usage errors', () => {
  it('every command has --help', async () => {
    for (const c of COMMANDS) {
      const r = await pigeon([c.name, '--help']);
      assert.equal(r.code, 0, c.name);
      assert.match(r.stdout, new RegExp(`Usage: pigeon ${c.name}`));
      assert.match(r.stdout, /--profile DIR/);
    }
    const all = await pigeon(['--help']);
    assert.equal(all.code, 0);
    for (const c of COMMANDS) assert.match(all.stdout, new RegExp(`\\n  ${c.name} `));
    const topic = await pigeon(['help', 'send']);
    assert.match(topic.stdout, /Usage: pigeon send/);
  });

  it('usage errors exit 2 with one line', async () => {
    const none = await pigeon([]);
    assert.equal(none.code, 2);
    assertCleanError(await pigeon(['fly']), 2);
    assertCleanError(await pigeon(['whoami', '--bogus']), 2);
    assertCleanError(await pigeon(['send', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['init', ...profile('nobody')]), 2);
    assertCleanError(await pigeon(['send', 'x', 'y', '--timeout', 'soon', ...profile('nobody')]), 2);
  });

  it('commands on a missing profile say NOT_INITIALIZED', async () => {
    const r = await pigeon(['whoami', ...profile('missing')]);
    assertCleanError(r);
    assert.match(r.stderr, /pigeon init/);
    const j = await pigeon(['contacts', '--json', ...profile('missing')]);
    assert.equal(json(j).error.code, 'NOT_INITIALIZED');
    const viaEnv = await pigeon(['whoami', '--json'], { env: { PIGEON_HOME: join(root.path, 'missing') } });
    assert.equal(json(viaEnv).error.code, 'NOT_INITIALIZED');
  });
});

describe('pigeon with a relay process', () => {
  let relay: { proc: LiveProcess; url: string };
  before(async () => {
    relay = await startRelay(join(root.path, 'relay'));
    assert.match(relay.url, /^ws:\/\/127\.0\.0\.1:\d+\/pigeon$/);
  });
  after(async () => {
    assert.equal(await relay.proc.stop(), 0);
  });

  it('init, invite, accept, send, inbox, verify, contacts, whoami', async () => {
    const init = await pigeon(['init', '--relay', relay.url, '--name', 'Alice', ...profile('alice')]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Pigeon ID:/);
    const bobInit = await pigeon(['init', '--relay', relay.url, '--name', 'Bob', '--json', ...profile('bob')]);
    assert.equal(json(bobInit).displayName, 'Bob');
    assert.equal(json(bobInit).relayUrl, relay.url);
    assertCleanError(await pigeon(['init', '--relay', relay.url, ...profile('bob')]));

    const human = await pigeon(['invite', ...profile('alice')]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /pigeon:\/\/invite\/[A-Za-z0-9_-]+/);
    assert.match(human.stdout, /[▀▄█]/, 'draws a QR code');
    const link = json(await pigeon(['invite', '--json', ...profile('alice')])).link as string;

    const accepted = await pigeon(['accept', link, '--json', ...profile('bob')]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(json(accepted).contact.name, 'Alice');
    assert.equal(json(accepted).introduced, true);

    const aliceInbox = json(await pigeon(['inbox', '--json', ...profile('alice')]));
    assert.deepEqual(aliceInbox.messages, []);
    assert.equal(aliceInbox.newContacts[0].name, 'Bob');
    const contacts = json(await pigeon(['contacts', '--json', ...profile('alice')])).contacts;
    assert.deepEqual(contacts.map((c: { name: string }) => c.name), ['Bob']);

    const sent = await pigeon(['send', 'Bob', 'hello', 'there', '--json', ...profile('alice')]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(json(sent).state, 'sent');
    assert.equal(json(sent).text, 'hello there');
    const humanSend = await pigeon(['send', 'Bob', 'second', ...profile('alice')]);
    assert.match(humanSend.stdout, /Message to Bob: sent/);

    const bobInbox = json(await pigeon(['inbox', '--json', ...profile('bob')]));
    assert.deepEqual(bobInbox.messages.map((m: { text: string }) => m.text), ['hello there', 'second']);
    assert.equal(bobInbox.messages[0].contactName, 'Alice');
    const again = await pigeon(['inbox', ...profile('bob')]);
    assert.match(again.stdout, /No new messages/);

    const va = json(await pigeon(['verify', 'Bob', '--json', ...profile('alice')]));
    const vb = json(await pigeon(['verify', 'Alice', '--mark-verified', '--json', ...profile('bob')]));
    assert.equal(va.safetyNumber.length, 60);
    assert.equal(va.safetyNumber, vb.safetyNumber);
    assert.equal(vb.verified, true);
    const verifyHuman = await pigeon(['verify', 'Alice', ...profile('bob')]);
    assert.match(verifyHuman.stdout, /(\d{5} ){3}\d{5}/);

    const who = json(await pigeon(['whoami', '--json', ...profile('alice')]));
    assert.equal(who.displayName, 'Alice');
    const whoHuman = await pigeon(['whoami', ...profile('alice')]);
    assert.match(whoHuman.stdout, /Pigeon ID:/);
    assert.doesNotMatch(whoHuman.stdout + JSON.stringify(who), /secret/i);
  });

  it('clear errors: unknown contact, bad link, unreachable relay', async () => {
    const unknown = await pigeon(['send', 'Mallory', 'hi', '--json', ...profile('alice')]);
    assertCleanError(unknown);
    assert.equal(json(unknown).error.code, 'UNKNOWN_CONTACT');
    assertCleanError(await pigeon(['verify', 'Mallory', ...profile('alice')]));

    for (const bad of ['pigeon://invite/xyz', 'https://example.org/', 'pigeon://invite/']) {
      const r = await pigeon(['accept', bad, '--json', ...profile('bob')]);
      assertCleanError(r);
      assert.equal(json(r).error.code, 'BAD_LINK');
    }

    const deadRelay = await startRelay(join(root.path, 'dead-relay'));
    await deadRelay.proc.stop();
    const r = await pigeon(['init', '--relay', deadRelay.url, '--timeout', '1', '--json', ...profile('carol')]);
    assertCleanError(r);
    assert.equal(json(r).error.code, 'RELAY_UNREACHABLE');
    assertCleanError(await pigeon(['whoami', ...profile('carol')]));
  });

  it('listen --json prints one JSON object per message', async () => {
    const listen = new LiveProcess(['listen', '--json', ...profile('bob')]);
    await listen.waitForJson((v) => v.event === 'connection' && v.state === 'connected');
    const sent = await pigeon(['send', 'Bob', 'live', 'news', ...profile('alice')]);
    assert.equal(sent.code, 0, sent.stderr);
    const m = await listen.waitForJson((v) => v.event === 'message');
    assert.equal(m.text, 'live news');
    assert.equal(m.contactName, 'Alice');
    assert.equal(await listen.stop('SIGINT'), 0);
    for (const line of listen.lines) JSON.parse(line);
  });

  it('chat sends typed lines and exits on /quit', async () => {
    const chat = await pigeon(['chat', 'Alice', ...profile('bob')], { input: 'from the chat\n/quit\n' });
    assert.equal(chat.code, 0, chat.stderr);
    assert.match(chat.stdout, /Chat with Alice/);
    assert.match(chat.stdout, /you -> Alice: from the chat/);
    const inbox = json(await pigeon(['inbox', '--json', ...profile('alice')]));
    assert.deepEqual(inbox.messages.map((m: { text: string }) => m.text), ['from the chat']);
  });
});

describe('pigeon send while the relay is down', () => {
  it('says so, keeps the message queued and sends it on the next run', async () => {
    const data = join(root.path, 'outage-relay');
    let relay = await startRelay(data);
    const port = relay.port;
    assert.equal((await pigeon(['init', '--relay', relay.url, '--name', 'Xena', ...profile('x')])).code, 0);
    assert.equal((await pigeon(['init', '--relay', relay.url, '--name', 'Yuri', ...profile('y')])).code, 0);
    const link = json(await pigeon(['invite', '--json', ...profile('x')])).link as string;
    assert.equal((await pigeon(['accept', link, ...profile('y')])).code, 0);
    await relay.proc.stop();

    const down = await pigeon(['send', 'Xena', 'during the outage', '--timeout', '1', '--json', ...profile('y')]);
    assertCleanError(down);
    assert.equal(json(down).error.code, 'RELAY_UNREACHABLE');
    assert.match(down.stderr, /queued/);

    relay = await startRelay(data, port);
    const up = await pigeon(['send', 'Xena', 'after the outage', ...profile('y')]);
    assert.equal(up.code, 0, up.stderr);
    const inbox = json(await pigeon(['inbox', '--json', ...profile('x')]));
    assert.deepEqual(inbox.messages.map((m: { text: string }) => m.text), ['during the outage', 'after the outage']);
    assert.equal(await relay.proc.stop(), 0);
  });
});
