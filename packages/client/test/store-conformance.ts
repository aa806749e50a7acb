/**
 * The ClientStore conformance suite. Every adapter (SQLite today, a browser store later) runs it:
 *   storeConformance('sqlite', () => openSqliteStore(path))
 * The factory returns a fresh, empty store each time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientStore, ContactRow, MessageRow, OutboxRow } from '../src/index.js';

const b = (...n: number[]) => new Uint8Array(n);

const contact = (id: string, name: string, addedAt = 1): ContactRow => ({
  id,
  name,
  accountKey: b(1, 2, 3),
  relayUrl: 'ws://relay.example/pigeon',
  deliveryToken: b(9, 9),
  verified: false,
  addedAt,
});

const message = (id: string, over: Partial<MessageRow> = {}): MessageRow => ({
  id,
  contactId: 'c1',
  direction: 'in',
  text: `text ${id}`,
  sentAt: 100,
  receivedAt: 200,
  state: 'delivered',
  read: false,
  ...over,
});

const outbox = (relayMessageId: string, messageId: string | null, createdAt = 1): OutboxRow => ({
  relayMessageId,
  messageId,
  contactId: 'c1',
  recipientDeviceId: 'd1',
  relayUrl: 'ws://relay.example/pigeon',
  deliveryToken: b(7),
  envelope: b(1, 2, 3, 4),
  createdAt,
});

export function storeConformance(name: string, factory: () => ClientStore): void {
  describe(`ClientStore conformance: ${name}`, () => {
    const withStore = (fn: (s: ClientStore) => void) => () => {
      const s = factory();
      try {
        fn(s);
      } finally {
        s.close();
      }
    };

    it('starts empty', withStore((s) => {
      assert.equal(s.getIdentity(), undefined);
      assert.deepEqual(s.listContacts(), []);
      assert.deepEqual(s.listOutbox(), []);
      assert.equal(s.countOutbox(), 0);
      assert.deepEqual(s.listUnread(), []);
    }));

    it('stores and replaces the identity', withStore((s) => {
      const row = { accountKeys: b(1), deviceKeys: b(2, 3), displayName: 'Ann', relayUrl: 'ws://x/', deliveryToken: b(4), createdAt: 5 };
      s.putIdentity(row);
      assert.deepEqual(s.getIdentity(), row);
      s.putIdentity({ ...row, displayName: 'Anna' });
      assert.equal(s.getIdentity()?.displayName, 'Anna');
    }));

    it('keeps prekeys per kind and deletes them', withStore((s) => {
      s.putPreKey('one_time', 1, b(1));
      s.putPreKey('kem', 1, b(2));
      s.putPreKey('signed', 1, b(3));
      assert.deepEqual(s.getPreKey('one_time', 1), b(1));
      assert.deepEqual(s.getPreKey('kem', 1), b(2));
      s.deletePreKey('one_time', 1);
      assert.equal(s.getPreKey('one_time', 1), undefined);
      assert.deepEqual(s.getPreKey('kem', 1), b(2));
      assert.equal(s.getPreKey('signed', 2), undefined);
    }));

    it('stores session records per remote device', withStore((s) => {
      s.putSession('d1', 'c1', b(1));
      s.putSession('d1', 'c1', b(2));
      s.putSession('d2', 'c1', b(3));
      assert.deepEqual(s.getSession('d1'), b(2));
      assert.deepEqual(s.getSession('d2'), b(3));
      assert.equal(s.getSession('d3'), undefined);
    }));

    it('stores contacts and their devices', withStore((s) => {
      s.putContact(contact('c2', 'Bob', 2));
      s.putContact(contact('c1', 'Ann', 1));
      assert.deepEqual(s.listContacts().map((c) => c.id), ['c1', 'c2']);
      s.putContact({ ...contact('c1', 'Annie', 1), verified: true });
      assert.equal(s.getContact('c1')?.name, 'Annie');
      assert.equal(s.getContact('c1')?.verified, true);
      assert.deepEqual(s.getContact('c1')?.accountKey, b(1, 2, 3));
      s.putContactDevice({ contactId: 'c1', deviceId: 'd1', certificate: b(5) });
      s.putContactDevice({ contactId: 'c1', deviceId: 'd1', certificate: b(6) });
      s.putContactDevice({ contactId: 'c2', deviceId: 'd2', certificate: b(7) });
      assert.deepEqual(s.listContactDevices('c1'), [{ contactId: 'c1', deviceId: 'd1', certificate: b(6) }]);
      assert.equal(s.getContact('nope'), undefined);
    }));

    it('keeps outstanding invites until deleted', withStore((s) => {
      s.putInvite('aa', 10);
      assert.equal(s.getInvite('aa'), 10);
      assert.equal(s.getInvite('bb'), undefined);
      s.deleteInvite('aa');
      assert.equal(s.getInvite('aa'), undefined);
    }));

    it('stores messages, lists them oldest first, limits to the newest', withStore((s) => {
      s.insertMessage(message('m2', { sentAt: 200 }));
      s.insertMessage(message('m1', { sentAt: 100 }));
      s.insertMessage(message('m3', { sentAt: 300, direction: 'out', state: 'queued', read: true, receivedAt: null }));
      s.insertMessage(message('x', { contactId: 'c2' }));
      assert.deepEqual(s.listMessages('c1').map((m) => m.id), ['m1', 'm2', 'm3']);
      assert.deepEqual(s.listMessages('c1', 2).map((m) => m.id), ['m2', 'm3']);
      assert.deepEqual(s.getMessage('m3'), message('m3', { sentAt: 300, direction: 'out', state: 'queued', read: true, receivedAt: null }));
      assert.throws(() => s.insertMessage(message('m1')), 'a message id is unique');
    }));

    it('tracks unread incoming messages and delivery states', withStore((s) => {
      s.insertMessage(message('in1'));
      s.insertMessage(message('in2', { sentAt: 150 }));
      s.insertMessage(message('out1', { direction: 'out', state: 'queued', read: true }));
      assert.deepEqual(s.listUnread().map((m) => m.id), ['in1', 'in2']);
      s.markRead(['in1', 'unknown']);
      assert.deepEqual(s.listUnread().map((m) => m.id), ['in2']);
      s.setMessageState('out1', 'sent');
      assert.equal(s.getMessage('out1')?.state, 'sent');
    }));

    it('keeps outbox rows byte-exact, oldest first, counted per message', withStore((s) => {
      s.putOutbox(outbox('r2', 'm1', 2));
      s.putOutbox(outbox('r1', 'm1', 1));
      s.putOutbox(outbox('r3', null, 3));
      assert.deepEqual(s.listOutbox(), [outbox('r1', 'm1', 1), outbox('r2', 'm1', 2), outbox('r3', null, 3)]);
      assert.equal(s.countOutbox(), 3);
      assert.equal(s.countOutbox('m1'), 2);
      s.deleteOutbox('r1');
      assert.equal(s.countOutbox('m1'), 1);
      s.deleteOutbox('r1');
      assert.equal(s.countOutbox(), 2);
    }));

    it('remembers seen content ids once', withStore((s) => {
      assert.equal(s.hasSeen('a'), false);
      assert.equal(s.markSeen('a', 1), true);
      assert.equal(s.markSeen('a', 2), false);
      assert.equal(s.hasSeen('a'), true);
    }));

    it('stores the read state of outgoing messages', withStore((s) => {
      s.insertMessage(message('out1', { direction: 'out', state: 'delivered', read: true }));
      s.setMessageState('out1', 'read');
      assert.equal(s.getMessage('out1')?.state, 'read');
    }));

    it('keeps safety events per contact, oldest first, and acknowledges them', withStore((s) => {
      const ev = (id: string, contactId: string, at: number) => ({ id, contactId, kind: 'key_changed' as const, deviceId: `d-${id}`, at, acknowledged: false });
      assert.deepEqual(s.listSafetyEvents('c1'), []);
      s.addSafetyEvent(ev('e2', 'c1', 20));
      s.addSafetyEvent(ev('e1', 'c1', 10));
      s.addSafetyEvent(ev('e3', 'c2', 5));
      assert.deepEqual(s.listSafetyEvents('c1'), [ev('e1', 'c1', 10), ev('e2', 'c1', 20)]);
      s.acknowledgeSafetyEvents('c1');
      assert.deepEqual(s.listSafetyEvents('c1').map((e) => e.acknowledged), [true, true]);
      assert.deepEqual(s.listSafetyEvents('c2').map((e) => e.acknowledged), [false]);
    }));

    it('stores relay state values', withStore((s) => {
      assert.equal(s.getState('k'), undefined);
      s.setState('k', '1');
      s.setState('k', '2');
      assert.equal(s.getState('k'), '2');
    }));

    it('commits a transaction as a whole', withStore((s) => {
      const result = s.transaction(() => {
        s.putSession('d1', 'c1', b(1));
        s.insertMessage(message('m1'));
        return 42;
      });
      assert.equal(result, 42);
      assert.deepEqual(s.getSession('d1'), b(1));
      assert.ok(s.getMessage('m1'));
    }));

    it('rolls a failed transaction back completely', withStore((s) => {
      s.insertMessage(message('m1'));
      assert.throws(() =>
        s.transaction(() => {
          s.putSession('d1', 'c1', b(1));
          s.deletePreKey('one_time', 1);
          s.putOutbox(outbox('r1', 'm2'));
          s.insertMessage(message('m1')); // duplicate id: throws
        }),
      );
      assert.equal(s.getSession('d1'), undefined);
      assert.equal(s.countOutbox(), 0);
    }));

    it('joins nested transactions to the outer one', withStore((s) => {
      assert.throws(() =>
        s.transaction(() => {
          s.transaction(() => s.setState('inner', '1'));
          throw new Error('outer fails');
        }),
      );
      assert.equal(s.getState('inner'), undefined);
    }));
    // ---- message life (schema 5; store/message-life-types.ts) ----------------------------------

    it('keeps message extras and finds expired messages soonest first', withStore((s) => {
      s.transaction(() => {
        s.insertMessage(message('m1'));
        s.insertMessage(message('m2'));
        s.insertMessage(message('m3'));
        s.putMessageMeta({ id: 'm1', contactId: 'c1', replyTo: 'm0', quote: 'q', edited: false, deleted: false, timerMs: 1000, expiresAt: 300 });
        s.putMessageMeta({ id: 'm2', contactId: 'c1', replyTo: null, quote: null, edited: false, deleted: false, timerMs: 1000, expiresAt: 200 });
        s.putMessageMeta({ id: 'm3', contactId: 'c1', replyTo: null, quote: null, edited: false, deleted: false, timerMs: 1000, expiresAt: null });
      });
      assert.deepEqual(s.getMessageMeta('m1'), { id: 'm1', contactId: 'c1', replyTo: 'm0', quote: 'q', edited: false, deleted: false, timerMs: 1000, expiresAt: 300 });
      assert.equal(s.nextExpiry(), 200);
      assert.deepEqual(s.listExpired(250, 10).map((m) => m.id), ['m2']);
      assert.deepEqual(s.listExpired(1000, 10).map((m) => m.id), ['m2', 'm1']);
      assert.deepEqual(s.listExpired(1000, 1).map((m) => m.id), ['m2'], 'limit');
      s.transaction(() => s.putMessageMeta({ ...s.getMessageMeta('m1')!, edited: true }));
      assert.equal(s.getMessageMeta('m1')?.edited, true);
      s.transaction(() => s.setMessageText('m1', 'new text'));
      assert.equal(s.getMessage('m1')?.text, 'new text');
    }));

    it('deletes a message with its extras and reactions', withStore((s) => {
      s.transaction(() => {
        s.insertMessage(message('m1'));
        s.putMessageMeta({ id: 'm1', contactId: 'c1', replyTo: null, quote: null, edited: false, deleted: false, timerMs: 5, expiresAt: 9 });
        s.putReaction({ messageId: 'm1', senderId: 'a', emoji: '👍', at: 1 });
      });
      s.transaction(() => s.deleteMessage('m1'));
      assert.equal(s.getMessage('m1'), undefined);
      assert.equal(s.getMessageMeta('m1'), undefined);
      assert.deepEqual(s.listReactions('m1'), []);
      assert.equal(s.nextExpiry(), undefined);
      s.transaction(() => s.deleteMessage('absent'));
    }));

    it('keeps one reaction per sender, replaced and removed', withStore((s) => {
      s.transaction(() => {
        s.putReaction({ messageId: 'm1', senderId: 'a', emoji: '👍', at: 1 });
        s.putReaction({ messageId: 'm1', senderId: 'b', emoji: '❤️', at: 2 });
        s.putReaction({ messageId: 'm1', senderId: 'a', emoji: '😂', at: 3 });
      });
      assert.deepEqual(s.listReactions('m1').map((r) => [r.senderId, r.emoji]).sort(), [['a', '😂'], ['b', '❤️']]);
      s.transaction(() => s.deleteReaction('m1', 'a'));
      assert.deepEqual(s.listReactions('m1').map((r) => r.senderId), ['b']);
    }));

    it('keeps blocks and requests', withStore((s) => {
      s.transaction(() => {
        s.putBlock({ contactId: 'x1', at: 1, reported: false, note: '' });
        s.putBlock({ contactId: 'x2', at: 2, reported: true, note: 'spam' });
        s.putRequest({ id: 'r1', accountKey: b(1), name: '', relayUrl: null, deliveryToken: null, firstAt: 1, lastAt: 1 });
        s.putRequest({ id: 'r2', accountKey: b(2), name: 'Eve', relayUrl: 'ws://r/p', deliveryToken: b(3, 4), firstAt: 2, lastAt: 5 });
      });
      assert.deepEqual(s.listBlocks().map((x) => x.contactId), ['x1', 'x2']);
      assert.deepEqual(s.getBlock('x2'), { contactId: 'x2', at: 2, reported: true, note: 'spam' });
      s.transaction(() => s.deleteBlock('x1'));
      assert.equal(s.getBlock('x1'), undefined);
      assert.deepEqual(s.listRequests().map((r) => r.id), ['r2', 'r1'], 'newest activity first');
      assert.deepEqual(s.getRequest('r2')?.deliveryToken, b(3, 4));
      assert.equal(s.getRequest('r1')?.deliveryToken, null);
      assert.equal(s.getRequest('r1')?.relayUrl, null);
      s.transaction(() => s.deleteRequest('r2'));
      assert.equal(s.getRequest('r2'), undefined);
    }));

    it('deletes state keys and rolls message-life writes back with the transaction', withStore((s) => {
      s.transaction(() => s.setState('attachment.m1', 'x'));
      s.transaction(() => s.deleteState('attachment.m1'));
      assert.equal(s.getState('attachment.m1'), undefined);
      assert.throws(() =>
        s.transaction(() => {
          s.putBlock({ contactId: 'x', at: 1, reported: false, note: '' });
          s.putReaction({ messageId: 'm', senderId: 'a', emoji: '👍', at: 1 });
          throw new Error('boom');
        }),
      );
      assert.equal(s.getBlock('x'), undefined);
      assert.deepEqual(s.listReactions('m'), []);
    }));
  });
}
