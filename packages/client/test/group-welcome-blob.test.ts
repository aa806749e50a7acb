/**
 * Welcomes by blob (docs/protocol.md §12.11): a big group's roster and member cards go to the
 * relay's blob store ONCE (encrypted), each newcomer gets a reference. Real relay, real clients.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRelay } from '@pigeon/relay';
import { fromHex, utf8 } from '@pigeon/crypto';
import {
  INLINE_WELCOME_MAX_CARDS,
  MAX_WELCOME_BUNDLE_BYTES,
  decodeGroupPayload,
  decodeWelcomeBundle,
  encodeGroupPayload,
  encodeWelcomeBundle,
  isClientError,
  welcomeByBlob,
  welcomeThreshold,
} from '../src/index.node.js';
import { blobFiles } from './attachment-helpers.js';
import { openClient, tempDir } from './helpers.js';
import { befriend, closeAll, makePerson, waitUntil } from './group-helpers.js';
import type { Person } from './group-helpers.js';

const root = tempDir('group-welcome');
/** Every client connects from 127.0.0.1: 60 of them need more than the default 64 connections and 2,000 frames/s per address. */
const LOCAL_LIMITS = { maxConnectionsPerAddress: 1_000, addressFramesPerSecond: 1_000_000, addressFrameBurst: 1_000_000 };
const relay = { url: '', dataDir: join(root.path, 'relay'), stop: async () => undefined as void };
before(async () => {
  const r = createRelay({ port: 0, dataDir: relay.dataDir, durability: 'normal', limits: LOCAL_LIMITS });
  relay.url = (await r.start()).url;
  relay.stop = () => r.stop();
});
after(async () => {
  await relay.stop();
  root.remove();
});

function newBlobs(before: readonly string[]): string[] {
  return blobFiles(relay.dataDir).filter((f) => !before.includes(f));
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;
}

/** A person whose client logs into `events` (event names and their `code`, never secrets). */
async function loggedPerson(name: string, events: string[], relayUrl = relay.url): Promise<Person> {
  return makePerson(root.path, relayUrl, name, ((event: string, fields?: Record<string, unknown>) => {
    events.push(typeof fields?.code === 'string' ? `${event}:${fields.code}` : event);
  }) as (event: string) => void);
}

const hasGroup = (p: Person, groupId: string) => p.client.groups.list().some((g) => g.id === groupId && g.active);
const othersRead = (p: Person, groupId: string) => (hasGroup(p, groupId) ? p.client.groups.messages(groupId).filter((m) => m.direction === 'in').length : 0);

/** Everyone sends one message; resolves when everyone read everyone else's. */
async function everyoneTalks(people: readonly Person[], groupId: string, timeoutMs: number): Promise<void> {
  for (const p of people) await p.client.groups.send(groupId, `hello from ${p.name}`);
  await waitUntil(() => people.every((p) => othersRead(p, groupId) >= people.length - 1), 'every member read every other member', timeoutMs);
  for (const p of people) {
    const texts = new Set(p.client.groups.messages(groupId).map((m) => m.text));
    for (const q of people) assert.ok(texts.has(`hello from ${q.name}`), `${p.name} lacks the message of ${q.name}`);
  }
}

describe('welcome bundle codec and threshold', () => {
  it('round-trips a bundle and the welcome_ref / welcome_request payloads', () => {
    const card = { accountKey: new Uint8Array(32).fill(1), name: 'Bob', relayUrl: 'ws://127.0.0.1:1', deliveryToken: new Uint8Array(32).fill(2) };
    const bundle = { roster: new Uint8Array([1, 2, 3]), cards: [card, card] };
    assert.deepEqual(decodeWelcomeBundle(encodeWelcomeBundle(bundle)), bundle);
    assert.throws(() => decodeWelcomeBundle(new Uint8Array([2, 0, 0, 0, 0])), (e) => isClientError(e, 'BAD_ARGUMENT'));
    assert.throws(() => decodeWelcomeBundle(encodeWelcomeBundle(bundle).slice(0, -1)), (e) => isClientError(e, 'BAD_ARGUMENT'));
    const reference = { url: 'http://127.0.0.1:1/pigeon/blobs/x', blobSize: 2048, sha256: new Uint8Array(32).fill(3), key: new Uint8Array(32).fill(4), size: 100, contentType: '', fileName: '' };
    const groupId = new Uint8Array(32).fill(5);
    for (const p of [
      { kind: 'welcome_ref', groupId, epoch: 7, reference },
      { kind: 'welcome_request', groupId, epoch: 7 },
    ] as const) {
      assert.deepEqual(decodeGroupPayload(encodeGroupPayload(p)), p);
    }
    // A 1,000-member bundle of the largest cards still fits the download limit.
    assert.ok(MAX_WELCOME_BUNDLE_BYTES < 1024 * 1024);
  });

  it('goes by blob only for several newcomers whose cards add up', () => {
    assert.equal(welcomeByBlob(1, 1000), false, 'adding one member is always inline');
    assert.equal(welcomeByBlob(29, 30), false);
    assert.equal(welcomeByBlob(99, 100), true);
    assert.equal(welcomeByBlob(2, INLINE_WELCOME_MAX_CARDS / 2), true);
  });
});

describe('welcome by blob between clients', () => {
  const SIZE = 60;
  const aliceEvents: string[] = [];
  let alice: Person;
  let members: Person[] = [];
  let groupId = '';
  before(async () => {
    alice = await loggedPerson('alice', aliceEvents);
    for (let i = 1; i < SIZE; i++) {
      // Long names: a name found in the blob could not be there by chance.
      const p = await makePerson(root.path, relay.url, `member-${String(i).padStart(3, '0')}-of-the-hikers`);
      await befriend(alice, p);
      members.push(p);
    }
  });
  after(() => closeAll([alice, ...members]));

  it(`creates a group of ${SIZE} with ONE blob that holds only ciphertext, and every member reads every other`, async () => {
    assert.ok(welcomeByBlob(SIZE - 1, SIZE), 'the default threshold takes the blob path at this size');
    const before = blobFiles(relay.dataDir);
    const group = await alice.client.groups.create('Hikers', members.map((m) => m.id));
    groupId = group.id;
    const created = newBlobs(before);
    assert.equal(created.length, 1, 'one blob for every newcomer');
    assert.ok(aliceEvents.includes('group.welcome_by_blob'));
    assert.ok(!aliceEvents.some((e) => e.startsWith('group.welcome_upload_failed')));
    await waitUntil(() => members.every((m) => hasGroup(m, groupId)), 'every member joined', 60_000);
    // The relay stores ciphertext: no name, no relay URL, not even the group id of the roster inside.
    const stored = readFileSync(created[0]!);
    for (const m of members) assert.ok(!contains(stored, utf8.encode(m.name)), 'a member name is readable in the blob');
    assert.ok(!contains(stored, utf8.encode(relay.url)));
    assert.ok(!contains(stored, fromHex(groupId)));
    // Members who are not each other's contacts reached each other from the cards in the blob.
    await everyoneTalks([alice, ...members], groupId, 180_000);
  });

  it('adding one member stays inline (no blob round trip) and the newcomer reaches everyone', async () => {
    const newcomer = await makePerson(root.path, relay.url, 'newcomer');
    members.push(newcomer);
    await befriend(alice, newcomer);
    const before = blobFiles(relay.dataDir);
    await alice.client.groups.add(groupId, [newcomer.id]);
    await waitUntil(() => hasGroup(newcomer, groupId), 'the newcomer joined', 30_000);
    assert.deepEqual(newBlobs(before), []);
    await newcomer.client.groups.send(groupId, 'hello from the newcomer');
    await waitUntil(() => members.every((m) => m.client.groups.messages(groupId).some((x) => x.text === 'hello from the newcomer')), 'everyone read the newcomer', 60_000);
    await members[0]!.client.groups.send(groupId, 'welcome, newcomer');
    await waitUntil(() => newcomer.client.groups.messages(groupId).some((x) => x.text === 'welcome, newcomer'), 'the newcomer read a member who is not its contact', 30_000);
  });
});

describe('welcome blob failures', () => {
  const saved = welcomeThreshold.inlineMaxCards;
  before(() => {
    // Four clients take the blob path (3 newcomers x 4 cards).
    welcomeThreshold.inlineMaxCards = 2;
  });
  after(() => {
    welcomeThreshold.inlineMaxCards = saved;
  });

  it('a tampered blob is refused (ATTACHMENT_TAMPERED); the newcomer holds the welcome and gets it inline from the admin', async () => {
    const aliceEvents: string[] = [];
    const lateEvents: string[] = [];
    const alice = await loggedPerson('alice-t', aliceEvents);
    const bob = await makePerson(root.path, relay.url, 'bob-t');
    const carol = await makePerson(root.path, relay.url, 'carol-t');
    const late = await loggedPerson('late-t', lateEvents);
    for (const p of [bob, carol, late]) await befriend(alice, p);
    // The late member is offline while the group is made, so its blob can be damaged first.
    await late.client.close();
    const before = blobFiles(relay.dataDir);
    const group = await alice.client.groups.create('Tampered', [bob.id, carol.id, late.id]);
    const [file] = newBlobs(before);
    assert.ok(file, 'the welcome went by blob');
    await waitUntil(() => hasGroup(bob, group.id) && hasGroup(carol, group.id), 'the online members joined');
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(file, bytes);
    const back: Person = { ...late, client: await openClient(late.home, { logger: (event, fields) => lateEvents.push(typeof fields?.code === 'string' ? `${event}:${fields.code}` : event) }) };
    await back.client.connect();
    try {
      await waitUntil(() => hasGroup(back, group.id), 'the late member joined from the inline welcome', 30_000);
      assert.ok(lateEvents.includes('group.welcome_blob_failed:ATTACHMENT_TAMPERED'), lateEvents.filter((e) => e.startsWith('group.')).join(','));
      assert.ok(aliceEvents.includes('group.welcome_inline_sent'));
      await everyoneTalks([alice, bob, carol, back], group.id, 60_000);
    } finally {
      await closeAll([alice, bob, carol, back]);
    }
  });

  it('without a blob store (the upload fails) the welcome goes inline', async () => {
    const dataDir = join(root.path, 'relay-no-blobs');
    const bare = createRelay({ port: 0, dataDir, durability: 'normal', blobs: false });
    const { url } = await bare.start();
    const aliceEvents: string[] = [];
    const alice = await loggedPerson('alice-n', aliceEvents, url);
    const others = [await makePerson(root.path, url, 'bob-n'), await makePerson(root.path, url, 'carol-n')];
    try {
      for (const p of others) await befriend(alice, p);
      const group = await alice.client.groups.create('No blobs', others.map((p) => p.id));
      assert.ok(aliceEvents.some((e) => e.startsWith('group.welcome_upload_failed')));
      assert.ok(!aliceEvents.includes('group.welcome_by_blob'));
      await waitUntil(() => others.every((p) => hasGroup(p, group.id)), 'the members joined from the inline welcome');
      await everyoneTalks([alice, ...others], group.id, 30_000);
    } finally {
      await closeAll([alice, ...others]);
      await bare.stop();
    }
  });
});
