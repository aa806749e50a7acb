import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../src/index.node.js';
import { tempDir } from './helpers.js';

const dir = tempDir('life-migration');
after(() => dir.remove());

describe('SQLite migration 5 (message life)', () => {
  it('keeps data written by schema 4 and adds message extras, reactions, blocks and requests', () => {
    const path = join(dir.path, 'migrate-5.db');
    const v4 = openSqliteStore(path, { schemaVersion: 4 });
    assert.equal(v4.db.pragma('user_version', { simple: true }), 4);
    v4.putContact({ id: 'c1', name: 'Ann', accountKey: new Uint8Array([1]), relayUrl: 'ws://r/p', deliveryToken: new Uint8Array([2]), verified: true, addedAt: 1 });
    v4.insertMessage({ id: 'm1', contactId: 'c1', direction: 'in', text: 'hi', sentAt: 5, receivedAt: 6, state: 'delivered', read: false });
    v4.setState('attachment.m1', 'ab');
    assert.throws(() => v4.getMessageMeta('m1'), 'no message_meta table in schema 4');
    v4.close();

    const v5 = openSqliteStore(path, { schemaVersion: 5 });
    assert.equal(v5.db.pragma('user_version', { simple: true }), 5);
    assert.equal(v5.getContact('c1')?.name, 'Ann');
    assert.equal(v5.getMessage('m1')?.text, 'hi');
    assert.equal(v5.getMessageMeta('m1'), undefined, 'old messages are plain');
    assert.deepEqual(v5.listReactions('m1'), []);
    assert.deepEqual(v5.listBlocks(), []);
    assert.deepEqual(v5.listRequests(), []);
    v5.putMessageMeta({ id: 'm1', contactId: 'c1', replyTo: null, quote: null, edited: true, deleted: false, timerMs: 1000, expiresAt: 10 });
    v5.putReaction({ messageId: 'm1', senderId: 'c1', emoji: '👍', at: 7 });
    assert.deepEqual(v5.listExpired(10, 10).map((m) => m.id), ['m1']);
    v5.deleteMessage('m1');
    v5.deleteState('attachment.m1');
    assert.equal(v5.getMessage('m1'), undefined);
    assert.equal(v5.getState('attachment.m1'), undefined);
    assert.deepEqual(v5.listReactions('m1'), []);
    v5.close();
  });
});
