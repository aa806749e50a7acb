/**
 * Files in groups (docs/attachments.md, "Groups"): uploaded once, the reference travels inside
 * the ONE Sender-Key message, every member downloads the same blob; receipts as for texts; a
 * removed member never gets the reference of later files. Real clients, in-process relay.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isClientError } from '../src/index.node.js';
import type { GroupMessage } from '../src/index.node.js';
import { blobFiles } from './attachment-helpers.js';
import { nextEvent, relayForFile, tempDir } from './helpers.js';
import { befriend, closeAll, makePerson, waitUntil } from './group-helpers.js';
import type { Person } from './group-helpers.js';

const root = tempDir('group-attachments');
const relay = relayForFile(root);

const blobCount = () => blobFiles(relay.dataDir).length;
const hasMessage = (p: Person, groupId: string, id: string) => p.client.groups.list().some((g) => g.id === groupId) && p.client.groups.messages(groupId).some((m) => m.id === id);

function fileOf(name: string, size: number, seed: number): { path: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(size).map((_, i) => (i * seed + (i >> 8)) & 0xff);
  const path = join(root.path, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe('files in a group', () => {
  let alice: Person, bob: Person, carol: Person;
  let groupId = '';
  before(async () => {
    alice = await makePerson(root.path, relay.url, 'alice');
    bob = await makePerson(root.path, relay.url, 'bob');
    carol = await makePerson(root.path, relay.url, 'carol');
    await befriend(alice, bob);
    await befriend(alice, carol);
    groupId = (await alice.client.groups.create('Photos', [bob.id, carol.id])).id;
    await waitUntil(() => [bob, carol].every((p) => p.client.groups.list().some((g) => g.id === groupId && g.active)), 'everyone joined');
  });
  after(() => closeAll([alice, bob, carol]));

  it('one upload; both other members get the same reference and download it bit-identical; it is delivered', async () => {
    const file = fileOf('report.bin', 300_000, 7);
    const blobsBefore = blobCount();
    const delivered = nextEvent<GroupMessage>((fn) => alice.client.groups.on('status', fn), (m) => m.text.includes('for everyone') && m.state === 'delivered');
    const sent = await alice.client.groups.sendAttachment(groupId, file.path, { caption: 'for everyone', contentType: 'application/octet-stream' });
    assert.equal(sent.text, '[file] report.bin (293 KB) for everyone');
    assert.deepEqual(alice.client.groups.attachment(sent.id), { fileName: 'report.bin', contentType: 'application/octet-stream', size: 300_000 });
    // The file went to the relay once, not once per member.
    assert.equal(blobCount(), blobsBefore + 1);
    await waitUntil(() => hasMessage(bob, groupId, sent.id) && hasMessage(carol, groupId, sent.id), 'both members got it');
    for (const p of [bob, carol]) {
      const m = p.client.groups.messages(groupId).find((x) => x.id === sent.id)!;
      assert.equal(m.direction, 'in');
      assert.equal(m.text, sent.text);
      assert.deepEqual(p.client.groups.attachment(sent.id), alice.client.groups.attachment(sent.id));
    }
    const dest = join(root.path, 'bob-report.bin');
    const got = await bob.client.downloadAttachment(sent.id, dest);
    assert.equal(got.size, 300_000);
    assert.deepEqual(new Uint8Array(readFileSync(dest)), file.bytes);
    assert.deepEqual(await carol.client.downloadAttachmentBytes(sent.id), file.bytes);
    assert.equal((await delivered).id, sent.id);
    assert.equal(blobCount(), blobsBefore + 1);
  });

  it('sendAttachmentBlob (the browser path) works from any member; the sender can read its own file back', async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    const sent = await bob.client.groups.sendAttachmentBlob(groupId, new Blob([bytes], { type: 'image/png' }), { fileName: 'pic.png' });
    assert.deepEqual(bob.client.groups.attachment(sent.id), { fileName: 'pic.png', contentType: 'image/png', size: 70_000 });
    await waitUntil(() => hasMessage(alice, groupId, sent.id) && hasMessage(carol, groupId, sent.id), 'alice and carol got it');
    assert.deepEqual(await alice.client.downloadAttachmentBytes(sent.id), bytes);
    assert.deepEqual(await carol.client.downloadAttachmentBytes(sent.id), bytes);
    assert.deepEqual(await bob.client.downloadAttachmentBytes(sent.id), bytes);
    // Read receipts as for texts.
    const read = nextEvent<GroupMessage>((fn) => bob.client.groups.on('status', fn), (m) => m.id === sent.id && m.state === 'read');
    await alice.client.groups.markRead([sent.id]);
    await carol.client.groups.markRead([sent.id]);
    await read;
  });

  it('refuses before uploading: unknown group, caption too long; groups.attachment is undefined for texts', async () => {
    const file = fileOf('x.bin', 10, 3);
    const blobsBefore = blobCount();
    await assert.rejects(alice.client.groups.sendAttachment('no such group', file.path), (e) => isClientError(e, 'UNKNOWN_GROUP'));
    await assert.rejects(alice.client.groups.sendAttachment(groupId, file.path, { caption: 'x'.repeat(20_000) }), (e) => isClientError(e, 'MESSAGE_TOO_LONG'));
    assert.equal(blobCount(), blobsBefore);
    const text = await alice.client.groups.send(groupId, 'just text');
    assert.equal(alice.client.groups.attachment(text.id), undefined);
    await assert.rejects(alice.client.downloadAttachmentBytes(text.id), (e) => isClientError(e, 'UNKNOWN_MESSAGE'));
  });

  it('a removed member never gets the reference of a later file', async () => {
    await alice.client.groups.remove(groupId, [carol.id]);
    await waitUntil(() => carol.client.groups.list().some((g) => g.id === groupId && !g.active), 'carol learnt she was removed');
    const file = fileOf('secret.bin', 20_000, 11);
    const sent = await alice.client.groups.sendAttachment(groupId, file.path, { caption: 'after carol left' });
    await waitUntil(() => hasMessage(bob, groupId, sent.id), 'bob got it');
    assert.deepEqual(await bob.client.downloadAttachmentBytes(sent.id), file.bytes);
    // Something sent to carol after the file arrives: the file would have come before it.
    const marker = await alice.client.send(carol.id, 'after the file');
    await waitUntil(() => carol.client.messages(alice.id).some((m) => m.id === marker.id), 'carol got the later one-to-one message');
    assert.equal(hasMessage(carol, groupId, sent.id), false);
    assert.equal(carol.client.groups.attachment(sent.id), undefined);
    assert.equal(carol.client.attachment(sent.id), undefined);
    await assert.rejects(carol.client.downloadAttachmentBytes(sent.id), (e) => isClientError(e, 'UNKNOWN_MESSAGE'));
    // Carol can no longer send files to the group either.
    await assert.rejects(carol.client.groups.sendAttachment(groupId, file.path), (e) => isClientError(e, 'UNKNOWN_GROUP'));
  });
});
