import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultBackend } from '@pigeon/crypto';
import { createAccountKeys, createDeviceKeys, createDeviceList, encodeDeviceList, encodeLinkCode, parseLinkCode } from '@pigeon/protocol';
import {
  decodeDevicePayload,
  decodeInviteLink,
  decodeLinkExtra,
  encodeDevicePayload,
  encodeLinkExtra,
  encodeLinkedAccount,
  isClientError,
  linkedAccountKey,
} from '../src/index.node.js';
import type { PigeonClient } from '../src/index.node.js';
import { newDeviceOf, openClient, relayForFile, tempDir } from './helpers.js';
import { befriend, closeAll, makePerson, waitUntil } from './group-helpers.js';
import type { Person } from './group-helpers.js';

const root = tempDir('devices');
const relay = relayForFile(root);

const texts = (c: PigeonClient, contactId: string) => c.messages(contactId).map((m) => m.text);
const groupTexts = (c: PigeonClient, groupId: string) => (c.groups.list().some((g) => g.id === groupId) ? c.groups.messages(groupId).map((m) => m.text) : []);

/** Links a new profile to `existing` (which holds the account key); returns the connected new device. */
async function link(existing: Person, name: string): Promise<Person> {
  const home = join(root.path, `${name}-${Math.random().toString(16).slice(2)}`);
  const client = await openClient(home);
  const session = await client.devices.startLink({ relayUrl: relay.url });
  assert.match(session.linkCode, /^pigeon:\/\/link\//);
  const added = await existing.client.devices.add(session.linkCode);
  const account = await session.account;
  // What both screens show must match.
  assert.equal(account.pigeonId, added.pigeonId);
  assert.equal(account.confirmationCode, added.confirmationCode);
  assert.match(account.confirmationCode, /^\d{6}$/);
  const profile = await session.confirm();
  assert.equal(profile.pigeonId, existing.client.profile().pigeonId);
  assert.equal(profile.deviceId, added.deviceId);
  await client.connect();
  await client.devices.announce();
  await client.flush();
  return { name, client, home, id: profile.accountId };
}

describe('device payload codecs', () => {
  it('round-trip and refuse garbage with BAD_ARGUMENT', () => {
    const card = { accountKey: new Uint8Array(32).fill(1), name: 'Bob', relayUrl: 'ws://127.0.0.1:1/pigeon', deliveryToken: new Uint8Array(32).fill(2) };
    for (const p of [
      { kind: 'hello' },
      { kind: 'sent', to: new Uint8Array(16).fill(3), content: new Uint8Array([1, 2]) },
      { kind: 'list', deviceList: new Uint8Array([4, 5]) },
      { kind: 'contact', card },
    ] as const) {
      assert.deepEqual(decodeDevicePayload(encodeDevicePayload(p)), p);
    }
    const extra = { displayName: 'Alice', deliveryToken: new Uint8Array(32).fill(9), contacts: [card] };
    assert.deepEqual(decodeLinkExtra(encodeLinkExtra(extra)), extra);
    for (const bad of [new Uint8Array(0), new Uint8Array([1, 77]), new Uint8Array([9, 1])]) {
      assert.throws(() => decodeDevicePayload(bad), (e) => isClientError(e, 'BAD_ARGUMENT'));
      assert.throws(() => decodeLinkExtra(bad), (e) => isClientError(e, 'BAD_ARGUMENT'));
    }
    const key = new Uint8Array(32).fill(5);
    assert.deepEqual(linkedAccountKey(encodeLinkedAccount(key)), key);
    assert.equal(linkedAccountKey(new Uint8Array(65)), null);
  });
});

describe('linked devices', () => {
  let alice: Person, bob: Person;
  const devices: Person[] = [];
  const bobLog: string[] = [];
  before(async () => {
    alice = await makePerson(root.path, relay.url, 'alice');
    bob = await makePerson(root.path, relay.url, 'bob', (event) => bobLog.push(event));
    await befriend(alice, bob);
  });
  after(() => closeAll([alice, bob, ...devices]));

  let groupBefore = '';
  it('links three more devices (4 in all); each shows the same Pigeon ID and confirmation code', async () => {
    groupBefore = (await alice.client.groups.create('Before linking', [bob.id])).id;
    for (const name of ['laptop', 'tablet', 'phone']) devices.push(await link(alice, name));
    const list = await alice.client.devices.list();
    assert.equal(list.length, 4);
    assert.equal(list.filter((d) => d.current).length, 1);
    assert.ok(list.find((d) => d.current)!.accountKeyHolder);
    // The new devices got the contacts in the provisioning message.
    for (const d of devices) assert.deepEqual(d.client.contacts().map((c) => c.id), [bob.id]);
    await waitUntil(() => bob.client.devices.heldList(alice.id)?.devices.length === 4, 'bob holds the new list');
  });

  it('a message reaches every device of the recipient; the sender\'s other devices see what it sent', async () => {
    await bob.client.send(alice.id, 'to every alice');
    await waitUntil(() => [alice, ...devices].every((d) => texts(d.client, bob.id).includes('to every alice')), 'all four devices got it');
    assert.equal(bob.client.contacts()[0]!.keyChanged, false, 'devices in the signed list are not key changes');

    // Sent from a linked device: Bob gets it, Alice's other devices see it as sent.
    const laptop = devices[0]!;
    const sent = await laptop.client.send(bob.id, 'from the laptop');
    await waitUntil(() => texts(bob.client, alice.id).includes('from the laptop'), 'bob got it');
    await waitUntil(() => [alice, ...devices.slice(1)].every((d) => texts(d.client, bob.id).includes('from the laptop')), 'alice\'s devices synced it');
    const synced = alice.client.messages(bob.id).find((m) => m.id === sent.id)!;
    assert.equal(synced.direction, 'out');

    // Receipts work across devices: Bob's delivery receipt reaches the sending device and the synced copies.
    await waitUntil(() => laptop.client.messages(bob.id).find((m) => m.id === sent.id)?.state === 'delivered', 'delivered on the laptop');
    await waitUntil(() => alice.client.messages(bob.id).find((m) => m.id === sent.id)?.state === 'delivered', 'delivered on the first device');
  });

  it('an attachment sent from a linked device shows on our other devices, which can download it', async () => {
    const laptop = devices[0]!;
    const source = join(root.path, 'photo.bin');
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    writeFileSync(source, bytes);
    const sent = await laptop.client.sendAttachment(bob.id, source, { caption: 'from the laptop', contentType: 'application/octet-stream' });
    await laptop.client.flush();
    await waitUntil(() => alice.client.messages(bob.id).some((m) => m.id === sent.id), 'the first device synced it');
    const synced = alice.client.messages(bob.id).find((m) => m.id === sent.id)!;
    assert.equal(synced.direction, 'out');
    assert.deepEqual(alice.client.attachment(sent.id), laptop.client.attachment(sent.id));
    const dest = join(root.path, 'photo-on-first-device.bin');
    await alice.client.downloadAttachment(sent.id, dest);
    assert.deepEqual(new Uint8Array(readFileSync(dest)), bytes);
    await waitUntil(() => bob.client.messages(alice.id).some((m) => m.id === sent.id), 'bob got it');
  });

  it('group messages work across devices (a group made before linking, and one made after)', async () => {
    await waitUntil(() => devices.every((d) => d.client.groups.list().some((g) => g.id === groupBefore && g.active)), 'linked devices joined the old group');
    const groupAfter = (await alice.client.groups.create('After linking', [bob.id])).id;
    await waitUntil(() => devices.every((d) => d.client.groups.list().some((g) => g.id === groupAfter)), 'linked devices joined the new group');
    for (const gid of [groupBefore, groupAfter]) {
      await waitUntil(() => bob.client.groups.list().some((g) => g.id === gid && g.members.find((m) => m.id === alice.id)?.devices === 4), 'bob sees 4 devices of alice');
      await bob.client.groups.send(gid, `bob in ${gid.slice(0, 4)}`);
      await waitUntil(() => [alice, ...devices].every((d) => groupTexts(d.client, gid).includes(`bob in ${gid.slice(0, 4)}`)), 'all alice devices read bob');
      await devices[1]!.client.groups.send(gid, `tablet in ${gid.slice(0, 4)}`);
      await waitUntil(
        () => groupTexts(bob.client, gid).includes(`tablet in ${gid.slice(0, 4)}`) && groupTexts(alice.client, gid).includes(`tablet in ${gid.slice(0, 4)}`),
        'bob and alice\'s first device read the tablet',
      );
      assert.equal(alice.client.groups.messages(gid).find((m) => m.text === `tablet in ${gid.slice(0, 4)}`)!.direction, 'out');
    }
    // A linked device cannot sign group changes.
    await assert.rejects(devices[0]!.client.groups.rename(groupAfter, 'x'), (e) => isClientError(e, 'ACCOUNT_KEY_REQUIRED'));
  });

  it('a group file sent from a linked device reaches our other devices as sent, and they can download it', async () => {
    const tablet = devices[1]!;
    const bytes = new Uint8Array(150_000).map((_, i) => (i * 13) & 0xff);
    const source = join(root.path, 'group-file.bin');
    writeFileSync(source, bytes);
    const sent = await tablet.client.groups.sendAttachment(groupBefore, source, { caption: 'from the tablet' });
    await waitUntil(() => alice.client.groups.messages(groupBefore).some((m) => m.id === sent.id), 'the first device synced it');
    assert.equal(alice.client.groups.messages(groupBefore).find((m) => m.id === sent.id)!.direction, 'out');
    assert.deepEqual(alice.client.groups.attachment(sent.id), tablet.client.groups.attachment(sent.id));
    const dest = join(root.path, 'group-file-on-first-device.bin');
    await alice.client.downloadAttachment(sent.id, dest);
    assert.deepEqual(new Uint8Array(readFileSync(dest)), bytes);
    await waitUntil(() => bob.client.groups.attachment(sent.id) !== undefined, 'bob got it');
    assert.deepEqual(await bob.client.downloadAttachmentBytes(sent.id), bytes);
  });

  it('a linked device cannot link or remove devices (no account key)', async () => {
    await assert.rejects(devices[0]!.client.devices.add('pigeon://link/AAAA'), (e) => isClientError(e, 'ACCOUNT_KEY_REQUIRED'));
    await assert.rejects(devices[0]!.client.devices.remove(devices[1]!.client.profile().deviceId), (e) => isClientError(e, 'ACCOUNT_KEY_REQUIRED'));
    await assert.rejects(alice.client.devices.add('not a code'), (e) => isClientError(e, 'BAD_LINK'));
    await assert.rejects(alice.client.devices.remove('ffffffffffff'), (e) => isClientError(e, 'UNKNOWN_DEVICE'));
    await assert.rejects(alice.client.devices.remove(alice.client.profile().deviceId), (e) => isClientError(e, 'BAD_ARGUMENT'));
  });

  it('a contact added after linking is shared with our other devices and reaches all of them', async () => {
    const carol = await makePerson(root.path, relay.url, 'carol');
    try {
      await befriend(alice, carol);
      await waitUntil(() => devices.every((d) => d.client.contacts().some((c) => c.id === carol.id)), 'the linked devices know carol');
      await carol.client.send(alice.id, 'hi all of alice');
      await waitUntil(() => [alice, ...devices].every((d) => texts(d.client, carol.id).includes('hi all of alice')), 'every device got it');
    } finally {
      await carol.client.close();
    }
  });

  it('a device list not signed by the account key is refused; a certified device the list does not name is not heard', async () => {
    const crypto = defaultBackend();
    const mallory = await createAccountKeys(crypto);
    const malloryDevice = await createDeviceKeys(crypto, mallory, Date.now());
    const forged = await createDeviceList(crypto, mallory, [malloryDevice.certificate], Date.now());
    const accountKey = decodeInviteLink((await alice.client.createInvite()).link).accountKey;
    assert.equal(await bob.client.devices.offerList(alice.id, accountKey, encodeDeviceList(forged)), false);
    assert.equal(bob.client.devices.heldList(alice.id)!.devices.length, 4);

    // A device certified by Alice's account key but never added to her signed list.
    const rogue = await newDeviceOf(alice.home, join(root.path, 'rogue'));
    try {
      const dropped = bobLog.filter((e) => e === 'inbox.unlisted_device_dropped').length;
      await rogue.send(bob.id, 'from a device not in the list');
      await rogue.flush();
      await waitUntil(() => bobLog.filter((e) => e === 'inbox.unlisted_device_dropped').length > dropped, 'bob dropped the rogue device\'s message');
      assert.ok(!texts(bob.client, alice.id).includes('from a device not in the list'));
      assert.equal(bob.client.contacts()[0]!.keyChanged, false);
    } finally {
      await rogue.close();
    }
  });

  it('a removed device gets nothing more, everywhere; the group rekeys', async () => {
    const phone = devices[2]!;
    const phoneId = phone.client.profile().deviceId;
    const remaining = await alice.client.devices.remove(phoneId.slice(0, 10));
    assert.equal(remaining.length, 3);
    await waitUntil(() => bob.client.devices.heldList(alice.id)?.devices.length === 3, 'bob holds the shorter list');
    await waitUntil(() => bob.client.groups.find(groupBefore).members.find((m) => m.id === alice.id)?.devices === 3, 'the group dropped the phone');
    await bob.client.send(alice.id, 'after the phone was removed');
    await bob.client.groups.send(groupBefore, 'group after the phone was removed');
    await devices[0]!.client.send(bob.id, 'laptop after the phone was removed');
    await waitUntil(
      () =>
        texts(alice.client, bob.id).includes('after the phone was removed') &&
        groupTexts(devices[0]!.client, groupBefore).includes('group after the phone was removed') &&
        texts(devices[1]!.client, bob.id).includes('laptop after the phone was removed'),
      'the other devices got everything',
    );
    await bob.client.flush();
    await devices[0]!.client.flush();
    assert.ok(!texts(phone.client, bob.id).includes('after the phone was removed'));
    assert.ok(!texts(phone.client, bob.id).includes('laptop after the phone was removed'));
    assert.ok(!groupTexts(phone.client, groupBefore).includes('group after the phone was removed'));
  });

  it('a removed device learns it was removed, connected or not; the others see the list change', async () => {
    // The phone was connected when it was removed (the test above): the relay closed it as revoked.
    const phone = devices[2]!;
    await waitUntil(() => phone.client.devices.isRevoked(), 'the phone learnt it was removed');
    assert.equal(alice.client.devices.isRevoked(), false);
    assert.equal(devices[0]!.client.devices.isRevoked(), false);

    // The tablet is closed when it is removed: it learns when it connects again (the relay refuses its auth).
    const tablet = devices[1]!;
    const tabletId = tablet.client.profile().deviceId;
    await tablet.client.close();
    let laptopChanges = 0;
    let aliceChanges = 0;
    const offs = [devices[0]!.client.devices.on('changed', () => laptopChanges++), alice.client.devices.on('changed', () => aliceChanges++)];
    await alice.client.devices.remove(tabletId);
    assert.equal(aliceChanges, 1);
    await waitUntil(() => laptopChanges === 1, 'the laptop heard of the change');
    assert.equal((await devices[0]!.client.devices.list()).length, 2);
    offs.forEach((off) => off());

    const reopened = await openClient(tablet.home);
    try {
      assert.equal(reopened.devices.isRevoked(), false, 'it holds the old list until it asks');
      const revoked = new Promise<void>((resolve) => reopened.devices.on('revoked', () => resolve()));
      reopened.connect().catch(() => undefined); // auth is refused: the device is gone
      await revoked;
      assert.ok(reopened.devices.isRevoked());
      assert.ok(!(await reopened.devices.list()).some((d) => d.current), 'the list no longer names this device');
    } finally {
      await reopened.close();
    }
  });
});

describe('a refused hand-over', () => {
  it('leaves no device in the signed list that will never exist', async () => {
    const erin = await makePerson(root.path, relay.url, 'erin');
    const newcomer = await openClient(join(root.path, `erin-new-${Math.random().toString(16).slice(2)}`));
    try {
      const session = await newcomer.devices.startLink({ relayUrl: relay.url });
      // The same code with a provisioning id the relay never opened: the relay refuses the hand-over.
      const real = parseLinkCode(session.linkCode);
      const stale = encodeLinkCode({ ...real, provisioningId: new Uint8Array(real.provisioningId.length).fill(7) });
      await assert.rejects(erin.client.devices.add(stale), (e) => isClientError(e, 'RELAY_REJECTED'));
      const list = await erin.client.devices.list();
      assert.equal(list.length, 1, 'only the first device is listed');
      // The attempt revoked that device id, so the same code is refused; a fresh link works.
      session.account.catch(() => undefined);
      await assert.rejects(erin.client.devices.add(session.linkCode), (e) => isClientError(e, 'BAD_ARGUMENT'));
      session.cancel();
      const again = await newcomer.devices.startLink({ relayUrl: relay.url });
      await erin.client.devices.add(again.linkCode);
      await again.account;
      await again.confirm();
      assert.equal((await erin.client.devices.list()).length, 2);
    } finally {
      await newcomer.close();
      await erin.client.close();
    }
  });
});
