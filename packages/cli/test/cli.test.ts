import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PigeonClient, openSqliteStore } from '@pigeon/client';
import { defaultBackend } from '@pigeon/crypto';
import { createDeviceKeys, decodeAccountKeys, encodeDeviceKeys } from '@pigeon/protocol';
import { COMMANDS } from '../src/main.js';
import { assertCleanError, LiveProcess, NO_STACK, json, pigeon, startRelay, tempDir } from './helpers.js';

const root = tempDir('main');
after(() => root.remove());
const profile = (name: string) => ['--profile', join(root.path, name)];


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

describe('receipts and key changes', () => {
  let relay: { proc: LiveProcess; url: string };
  before(async () => {
    relay = await startRelay(join(root.path, 'relay-receipts'));
    for (const [who, name] of [['r-ann', 'Ann'], ['r-ben', 'Ben']] as const) {
      const r = await pigeon(['init', '--relay', relay.url, '--name', name, ...profile(who)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const link = json(await pigeon(['invite', '--json', ...profile('r-ann')])).link as string;
    assert.equal((await pigeon(['accept', link, ...profile('r-ben')])).code, 0);
    await pigeon(['inbox', ...profile('r-ann')]);
  });
  after(async () => {
    assert.equal(await relay.proc.stop(), 0);
  });

  it('settings shows and changes receipts; bad values are usage errors', async () => {
    assert.deepEqual(json(await pigeon(['settings', '--json', ...profile('r-ben')])), { deliveryReceipts: true, readReceipts: true });
    const human = await pigeon(['settings', ...profile('r-ben')]);
    assert.match(human.stdout, /Read receipts:\s+on/);
    const off = await pigeon(['settings', '--read-receipts', 'off', '--json', ...profile('r-ben')]);
    assert.deepEqual(json(off), { deliveryReceipts: true, readReceipts: false });
    assert.match((await pigeon(['settings', ...profile('r-ben')])).stdout, /Read receipts:\s+off/);
    assertCleanError(await pigeon(['settings', '--read-receipts', 'maybe', ...profile('r-ben')]), 2);
    assert.equal(json(await pigeon(['settings', '--read-receipts', 'on', '--json', ...profile('r-ben')])).readReceipts, true);
  });

  it('inbox and chat mark messages read; the sender sees ✓ sent, ✓✓ delivered, read', async () => {
    // inbox marks read and sends the receipts before it exits.
    assert.equal((await pigeon(['send', 'Ben', 'please read', ...profile('r-ann')])).code, 0);
    const ben = json(await pigeon(['inbox', '--json', ...profile('r-ben')]));
    assert.deepEqual(ben.messages.map((m: { text: string }) => m.text), ['please read']);
    await pigeon(['inbox', ...profile('r-ann')]);
    const annChat = await pigeon(['chat', 'Ben', ...profile('r-ann')], { input: '/quit\n' });
    assert.match(annChat.stdout, /you -> Ben: please read \(✓✓ read\)/);

    // chat marks what it shows read, and sends the receipts on the way out.
    const benChat = new LiveProcess(['chat', 'Ann', '--json', ...profile('r-ben')]);
    await benChat.waitForJson((v) => v.event === 'connection' && v.state === 'connected');
    assert.equal((await pigeon(['send', 'Ben', 'seen in the chat', ...profile('r-ann')])).code, 0);
    await benChat.waitForJson((v) => v.event === 'message' && v.text === 'seen in the chat');
    benChat.child.stdin!.end('/quit\n');
    assert.equal(await benChat.exited, 0, benChat.stderr);
    assert.deepEqual(json(await pigeon(['inbox', '--json', ...profile('r-ben')])).messages, [], 'the chat marked it read');
    await pigeon(['inbox', ...profile('r-ann')]);
    const annChat1 = await pigeon(['chat', 'Ben', ...profile('r-ann')], { input: '/quit\n' });
    assert.match(annChat1.stdout, /you -> Ben: seen in the chat \(✓✓ read\)/);

    // With read receipts off, inbox marks read but sends only the delivery receipt.
    assert.equal((await pigeon(['settings', '--read-receipts', 'off', ...profile('r-ben')])).code, 0);
    assert.equal((await pigeon(['send', 'Ben', 'read quietly', ...profile('r-ann')])).code, 0);
    const inbox = json(await pigeon(['inbox', '--json', ...profile('r-ben')]));
    assert.deepEqual(inbox.messages.map((m: { text: string }) => m.text), ['read quietly']);
    await pigeon(['inbox', ...profile('r-ann')]);
    const annChat2 = await pigeon(['chat', 'Ben', ...profile('r-ann')], { input: '/quit\n' });
    assert.match(annChat2.stdout, /you -> Ben: read quietly \(✓✓ delivered\)/);
    assert.equal((await pigeon(['settings', '--read-receipts', 'on', ...profile('r-ben')])).code, 0);
  });

  it('a new device of a contact blocks send until verify --acknowledge', async () => {
    // Ben's account gets a second device (made with the SDK: the CLI cannot link devices yet).
    const benNew = await newDeviceOf(join(root.path, 'r-ben'), join(root.path, 'r-ben-new'));
    const annAtBen = benNew.findContact('Ann');
    await benNew.send(annAtBen.id, 'hello from my new laptop');
    await benNew.flush();
    await benNew.close();

    const inbox = await pigeon(['inbox', ...profile('r-ann')]);
    assert.match(inbox.stdout, /hello from my new laptop/);
    assert.match(inbox.stdout, /WARNING: the keys of Ben changed/);
    assert.match(inbox.stdout, /pigeon verify "Ben" --acknowledge/);

    const blocked = await pigeon(['send', 'Ben', 'who is this?', '--json', ...profile('r-ann')]);
    assertCleanError(blocked);
    assert.equal(json(blocked).error.code, 'IDENTITY_CHANGED');
    assert.match(blocked.stderr, /keys of Ben changed.*pigeon verify "Ben" --acknowledge/);
    assert.match((await pigeon(['contacts', ...profile('r-ann')])).stdout, /Ben .*KEY CHANGED/);
    const before = json(await pigeon(['verify', 'Ben', '--json', ...profile('r-ann')]));
    assert.equal(before.keyChanged, true);
    assert.equal(before.keyChanges.length, 1);

    const ack = await pigeon(['verify', 'Ben', '--acknowledge', '--no-qr', ...profile('r-ann')]);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /acknowledged/);
    const sent = await pigeon(['send', 'Ben', 'ok, welcome back', '--json', ...profile('r-ann')]);
    assert.equal(sent.code, 0, sent.stderr);
  });
});

/** A second device of the same account, in its own profile directory (see the client's tests). */
async function newDeviceOf(home: string, newHome: string): Promise<PigeonClient> {
  const src = openSqliteStore(join(home, 'pigeon.db'));
  const identity = src.getIdentity()!;
  const contacts = src.listContacts();
  src.close();
  const device = await createDeviceKeys(defaultBackend(), decodeAccountKeys(identity.accountKeys), Date.now());
  mkdirSync(newHome, { recursive: true, mode: 0o700 });
  const dst = openSqliteStore(join(newHome, 'pigeon.db'));
  dst.transaction(() => {
    dst.putIdentity({ ...identity, deviceKeys: encodeDeviceKeys(device) });
    for (const c of contacts) dst.putContact(c);
  });
  dst.close();
  return PigeonClient.open({ home: newHome, connectTimeoutMs: 10_000 });
}
