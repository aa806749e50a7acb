/**
 * Conformance suite every RelayStore implementation must pass (SQLite today, PostgreSQL later):
 * call runStoreConformance(name, factory) from the implementation's test file.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { RelayStore, StoredDevice, PreKeyUpload } from '../src/store/types.js';

const id = (): Uint8Array => new Uint8Array(randomBytes(16));
const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);
const same = (a: Uint8Array, b: Uint8Array) => assert.deepStrictEqual(Buffer.from(a), Buffer.from(b));

function device(accountId = id()): StoredDevice {
  return { deviceId: id(), accountId, signingKey: new Uint8Array(randomBytes(32)), certificate: new Uint8Array(randomBytes(170)), registeredAt: 1000 };
}

function upload(spec: { signed?: boolean; lastResort?: boolean; oneTime?: number[]; kem?: number[] }): PreKeyUpload {
  return {
    signedPreKey: spec.signed === false ? null : { id: 7, publicKey: bytes(32, 7), signature: bytes(64, 7) },
    kemLastResortPreKey: spec.lastResort === false ? null : { id: 8, publicKey: bytes(1568, 8), signature: bytes(64, 8) },
    oneTimePreKeys: (spec.oneTime ?? []).map((i) => ({ id: i, publicKey: bytes(32, i & 0xff) })),
    kemOneTimePreKeys: (spec.kem ?? []).map((i) => ({ id: i, publicKey: bytes(1568, i & 0xff), signature: bytes(64, i & 0xff) })),
  };
}

const LIMITS = { maxMessages: 100, maxBytes: 1 << 20 };

export function runStoreConformance(name: string, factory: () => Promise<RelayStore>): void {
  describe(`RelayStore conformance: ${name}`, () => {
    const stores: RelayStore[] = [];
    const open = async () => {
      const s = await factory();
      stores.push(s);
      return s;
    };
    after(async () => {
      for (const s of stores) await s.close();
    });

    it('registers devices, re-registers with a new certificate, and refuses a full account or another account', async () => {
      const s = await open();
      const d = device();
      assert.equal(await s.registerDevice(d, 2), 'created');
      const got = await s.getDevice(d.deviceId);
      assert.ok(got);
      same(got.accountId, d.accountId);
      same(got.signingKey, d.signingKey);
      same(got.certificate, d.certificate);
      assert.equal(got.registeredAt, 1000);
      assert.equal(await s.accountExists(d.accountId), true);
      assert.equal(await s.accountExists(id()), false);
      assert.equal(await s.getDevice(id()), undefined);

      const renewed = { ...d, certificate: bytes(170, 9) };
      assert.equal(await s.registerDevice(renewed, 2), 'updated');
      same((await s.getDevice(d.deviceId))!.certificate, renewed.certificate);
      assert.equal(await s.registerDevice({ ...d, accountId: id() }, 2), 'account_mismatch');

      assert.equal(await s.registerDevice(device(d.accountId), 2), 'created');
      assert.equal(await s.registerDevice(device(d.accountId), 2), 'account_full');
    });

    it('stores prekeys, counts them, and refuses to exceed the per-kind limit without changing anything', async () => {
      const s = await open();
      const d = device();
      await s.registerDevice(d, 4);
      assert.deepStrictEqual(await s.preKeyCounts(d.deviceId), { oneTimePreKeys: 0, kemOneTimePreKeys: 0 });
      assert.equal(await s.putPreKeys(d.deviceId, upload({ oneTime: [1, 2, 3], kem: [10, 11] }), 5), 'ok');
      assert.deepStrictEqual(await s.preKeyCounts(d.deviceId), { oneTimePreKeys: 3, kemOneTimePreKeys: 2 });
      // Same ids replace, they do not add.
      assert.equal(await s.putPreKeys(d.deviceId, upload({ oneTime: [1, 2, 3] }), 5), 'ok');
      assert.deepStrictEqual(await s.preKeyCounts(d.deviceId), { oneTimePreKeys: 3, kemOneTimePreKeys: 2 });
      assert.equal(await s.putPreKeys(d.deviceId, upload({ oneTime: [4, 5, 6] }), 5), 'limit');
      assert.equal(await s.putPreKeys(d.deviceId, upload({ kem: [12, 13, 14, 15] }), 5), 'limit');
      assert.deepStrictEqual(await s.preKeyCounts(d.deviceId), { oneTimePreKeys: 3, kemOneTimePreKeys: 2 });
    });

    it('hands out one bundle per device with prekeys, consuming one-time keys lowest id first, then falls back', async () => {
      const s = await open();
      assert.equal(await s.takePreKeyBundles(id()), undefined);
      const d = device();
      await s.registerDevice(d, 4);
      const bare = device(d.accountId);
      await s.registerDevice(bare, 4);
      assert.deepStrictEqual(await s.takePreKeyBundles(d.accountId), []);
      await s.putPreKeys(bare.deviceId, upload({ lastResort: false, oneTime: [1] }), 10); // no last resort: skipped
      await s.putPreKeys(d.deviceId, upload({ oneTime: [5, 3], kem: [21] }), 10);

      const first = (await s.takePreKeyBundles(d.accountId))!;
      assert.equal(first.length, 1);
      const b = first[0]!;
      same(b.device.deviceId, d.deviceId);
      same(b.device.certificate, d.certificate);
      assert.equal(b.signedPreKey.id, 7);
      same(b.signedPreKey.signature, bytes(64, 7));
      assert.equal(b.oneTimePreKey?.id, 3);
      assert.equal(b.kemPreKey.id, 21);
      same(b.kemPreKey.publicKey, bytes(1568, 21));
      same(b.kemPreKey.signature, bytes(64, 21));
      assert.equal(b.kemLastResort, false);

      const second = (await s.takePreKeyBundles(d.accountId))![0]!;
      assert.equal(second.oneTimePreKey?.id, 5);
      assert.equal(second.kemPreKey.id, 8);
      assert.equal(second.kemLastResort, true);
      const third = (await s.takePreKeyBundles(d.accountId))![0]!;
      assert.equal(third.oneTimePreKey, null);
      assert.equal(third.kemPreKey.id, 8);
      assert.deepStrictEqual(await s.preKeyCounts(d.deviceId), { oneTimePreKeys: 0, kemOneTimePreKeys: 0 });
    });

    it('never gives the same one-time key to two concurrent fetches', async () => {
      const s = await open();
      const d = device();
      await s.registerDevice(d, 4);
      const ids = Array.from({ length: 30 }, (_, i) => i + 1);
      await s.putPreKeys(d.deviceId, upload({ oneTime: ids, kem: ids.slice(0, 10) }), 100);
      const results = await Promise.all(Array.from({ length: 40 }, () => s.takePreKeyBundles(d.accountId)));
      const oneTime = results.map((r) => r![0]!.oneTimePreKey?.id).filter((x) => x !== undefined);
      const kem = results.map((r) => r![0]!).filter((b) => !b.kemLastResort).map((b) => b.kemPreKey.id);
      assert.equal(oneTime.length, 30);
      assert.equal(new Set(oneTime).size, 30);
      assert.equal(kem.length, 10);
      assert.equal(new Set(kem).size, 10);
    });

    it('keeps delivery token hashes per account, bounded', async () => {
      const s = await open();
      const a = id();
      const t1 = bytes(32, 1);
      const t2 = bytes(32, 2);
      const t3 = bytes(32, 3);
      assert.equal(await s.setDeliveryTokens(a, [t1, t2], [], 2), 'ok');
      assert.equal(await s.hasDeliveryToken(a, t1), true);
      assert.equal(await s.hasDeliveryToken(id(), t1), false);
      assert.equal(await s.setDeliveryTokens(a, [t3], [], 2), 'limit');
      assert.equal(await s.hasDeliveryToken(a, t3), false);
      assert.equal(await s.setDeliveryTokens(a, [t3], [t1], 2), 'ok');
      assert.equal(await s.hasDeliveryToken(a, t1), false);
      assert.equal(await s.hasDeliveryToken(a, t3), true);
      assert.equal(await s.setDeliveryTokens(a, [t3, t3], [], 2), 'ok'); // adding twice is harmless
    });

    it('enqueues idempotently, in order, within mailbox limits', async () => {
      const s = await open();
      const r = id();
      const other = id();
      const m = (messageId: Uint8Array, size = 10, expiresAt = 10_000) => ({ recipientDeviceId: r, messageId, envelope: bytes(size, 3), receivedAt: 500, expiresAt });
      const ids = [id(), id(), id()];
      for (const x of ids) assert.equal(await s.enqueue(m(x), LIMITS), 'stored');
      assert.equal(await s.enqueue(m(ids[1]!), LIMITS), 'duplicate');
      assert.equal(await s.enqueue({ ...m(id()), recipientDeviceId: other }, LIMITS), 'stored');
      const pending = await s.pending(r, 0, 1000, 10);
      assert.deepStrictEqual(pending.map((p) => Buffer.from(p.messageId).toString('hex')), ids.map((x) => Buffer.from(x).toString('hex')));
      assert.ok(pending[0]!.seq < pending[1]!.seq && pending[1]!.seq < pending[2]!.seq);
      assert.equal(pending[0]!.receivedAt, 500);
      same(pending[0]!.envelope, bytes(10, 3));
      assert.equal((await s.pending(r, pending[0]!.seq, 1000, 10)).length, 2);
      assert.equal((await s.pending(r, 0, 1000, 2)).length, 2);
      assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 3, bytes: 30 });

      const small = { maxMessages: 3, maxBytes: 1 << 20 };
      assert.equal(await s.enqueue(m(id()), small), 'full');
      assert.equal(await s.enqueue(m(ids[0]!), small), 'duplicate');
      assert.equal(await s.enqueue(m(id(), 71), { maxMessages: 100, maxBytes: 100 }), 'full');
      assert.equal(await s.enqueue(m(id(), 70), { maxMessages: 100, maxBytes: 100 }), 'stored');
      assert.equal(await s.enqueue({ ...m(id(), 5), recipientDeviceId: id() }, { maxMessages: 1, maxBytes: 4 }), 'full');
    });

    it('acks delete only the device own messages, in one call', async () => {
      const s = await open();
      const r = id();
      const other = id();
      const shared = id();
      const m = (recipient: Uint8Array, messageId: Uint8Array) => ({ recipientDeviceId: recipient, messageId, envelope: bytes(4), receivedAt: 1, expiresAt: 10_000 });
      const ids = [id(), id(), id()];
      for (const x of ids) await s.enqueue(m(r, x), LIMITS);
      await s.enqueue(m(other, shared), LIMITS);
      await s.enqueue(m(r, shared), LIMITS);
      assert.equal(await s.ack(r, [ids[0]!, ids[2]!, id(), shared]), 3);
      assert.equal(await s.ack(r, [ids[0]!]), 0);
      assert.deepStrictEqual((await s.pending(r, 0, 1, 10)).map((p) => Buffer.from(p.messageId).toString('hex')), [Buffer.from(ids[1]!).toString('hex')]);
      assert.equal((await s.pending(other, 0, 1, 10)).length, 1);
      assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 1, bytes: 4 });
    });

    it('concurrent enqueues and acks (one group commit) each get their own outcome', async () => {
      const s = await open();
      const r = id();
      const ids = Array.from({ length: 50 }, () => id());
      const results = await Promise.all([
        ...ids.map((x) => s.enqueue({ recipientDeviceId: r, messageId: x, envelope: bytes(8), receivedAt: 1, expiresAt: 10_000 }, { maxMessages: 40, maxBytes: 1 << 20 })),
      ]);
      assert.equal(results.filter((x) => x === 'stored').length, 40);
      assert.equal(results.filter((x) => x === 'full').length, 10);
      const [acked, again] = await Promise.all([s.ack(r, ids.slice(0, 20)), s.enqueue({ recipientDeviceId: r, messageId: ids[45]!, envelope: bytes(8), receivedAt: 1, expiresAt: 10_000 }, { maxMessages: 40, maxBytes: 1 << 20 })]);
      assert.equal(acked, 20);
      assert.equal(again, 'stored');
      assert.equal((await s.mailboxUsage(r)).messages, 21);
    });

    it('answers which mailboxes hold unexpired mail after a cursor, for many at once', async (t) => {
      const s = await open();
      if (s.mailboxesWithMail === undefined) return t.skip('this store has no batch probe');
      const full = id();
      const empty = id();
      const expired = id();
      const m = (recipient: Uint8Array, expiresAt = 10_000) => ({ recipientDeviceId: recipient, messageId: id(), envelope: bytes(4), receivedAt: 1, expiresAt });
      await s.enqueue(m(full), LIMITS);
      await s.enqueue(m(full), LIMITS);
      const expiredMessage = m(expired, 100);
      await s.enqueue(expiredMessage, LIMITS);
      const [first, last] = (await s.pending(full, 0, 0, 10)).map((p) => p.seq);
      const answers = await s.mailboxesWithMail(
        [
          { deviceId: full, afterSeq: 0 },
          { deviceId: full, afterSeq: first! },
          { deviceId: full, afterSeq: last! },
          { deviceId: empty, afterSeq: 0 },
          { deviceId: expired, afterSeq: 0 },
        ],
        150,
      );
      assert.deepStrictEqual(answers, [true, true, false, false, false]);
      assert.deepStrictEqual(await s.mailboxesWithMail([], 150), []);
      // Many probes (several shards for a sharded store), order kept.
      const many = Array.from({ length: 300 }, (_, i) => ({ deviceId: i % 3 === 0 ? full : id(), afterSeq: 0 }));
      assert.deepStrictEqual(await s.mailboxesWithMail(many, 150), many.map((_, i) => i % 3 === 0));
      // Stores shared between tests: leave nothing expired behind for the sweep test.
      assert.equal(await s.ack(expired, [expiredMessage.messageId]), 1);
    });

    it('does not deliver expired messages and sweeps them', async () => {
      const s = await open();
      const r = id();
      await s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: bytes(4), receivedAt: 1, expiresAt: 100 }, LIMITS);
      await s.enqueue({ recipientDeviceId: r, messageId: id(), envelope: bytes(4), receivedAt: 1, expiresAt: 200 }, LIMITS);
      assert.equal((await s.pending(r, 0, 99, 10)).length, 2);
      assert.equal((await s.pending(r, 0, 100, 10)).length, 1);
      assert.equal(await s.sweepExpired(150), 1);
      assert.deepStrictEqual(await s.mailboxUsage(r), { messages: 1, bytes: 4 });
      assert.equal(await s.sweepExpired(1000), 1);
      assert.equal((await s.pending(r, 0, 0, 10)).length, 0);
    });

    it('device lists: a higher counter supersedes and removes unlisted devices with their prekeys and mailbox', async () => {
      const s = await open();
      const a = device();
      const b = device(a.accountId);
      const c = device(a.accountId);
      for (const d of [a, b, c]) assert.equal(await s.registerDevice(d, 10), 'created');
      await s.putPreKeys(b.deviceId, upload({ oneTime: [1, 2] }), 100);
      await s.enqueue({ recipientDeviceId: b.deviceId, messageId: id(), envelope: bytes(10), receivedAt: 1, expiresAt: 1e15 }, LIMITS);
      assert.equal(await s.getDeviceList(a.accountId), undefined);

      const v1 = { counter: 1, bytes: bytes(40, 1) };
      const first = await s.putDeviceList(a.accountId, v1, [a.deviceId, b.deviceId]);
      assert.equal(first.outcome, 'stored');
      assert.deepStrictEqual(first.outcome === 'stored' ? first.removed.map((x) => Buffer.from(x).toString('hex')) : [], [Buffer.from(c.deviceId).toString('hex')]);
      assert.equal(await s.getDevice(c.deviceId), undefined);
      const got = await s.getDeviceList(a.accountId);
      assert.equal(got?.counter, 1);
      same(got!.bytes, v1.bytes);

      assert.deepStrictEqual(await s.putDeviceList(a.accountId, v1, [a.deviceId, b.deviceId]), { outcome: 'unchanged' });
      assert.deepStrictEqual(await s.putDeviceList(a.accountId, { counter: 1, bytes: bytes(40, 2) }, [a.deviceId]), { outcome: 'stale' });
      assert.deepStrictEqual(await s.putDeviceList(a.accountId, { counter: 0, bytes: bytes(40, 3) }, [a.deviceId]), { outcome: 'stale' });
      assert.ok(await s.getDevice(b.deviceId), 'a refused list changes nothing');

      const v2 = await s.putDeviceList(a.accountId, { counter: 5, bytes: bytes(40, 5) }, [a.deviceId]);
      assert.equal(v2.outcome, 'stored');
      assert.equal(await s.getDevice(b.deviceId), undefined);
      assert.ok(await s.getDevice(a.deviceId));
      assert.deepStrictEqual(await s.mailboxUsage(b.deviceId), { messages: 0, bytes: 0 });
      assert.equal((await s.pending(b.deviceId, 0, 0, 10)).length, 0);
      assert.deepStrictEqual(await s.preKeyCounts(b.deviceId), { oneTimePreKeys: 0, kemOneTimePreKeys: 0 });
      assert.equal((await s.getDeviceList(a.accountId))?.counter, 5);
    });

    it('provisioning mailboxes hold one message, hand it out once and expire', async () => {
      const s = await open();
      const p = id();
      assert.equal(await s.putProvisioningMessage(p, bytes(8), 10), 'unknown');
      assert.equal(await s.openProvisioning(p, 10, 100), 'opened');
      assert.equal(await s.openProvisioning(p, 20, 100), 'exists');
      assert.equal(await s.takeProvisioningMessage(p, 20), undefined);
      assert.equal(await s.putProvisioningMessage(p, bytes(8, 4), 30), 'stored');
      assert.equal(await s.putProvisioningMessage(p, bytes(8, 5), 30), 'full');
      same((await s.takeProvisioningMessage(p, 40))!, bytes(8, 4));
      assert.equal(await s.takeProvisioningMessage(p, 40), undefined);
      assert.equal(await s.putProvisioningMessage(p, bytes(8), 50), 'unknown');

      const q = id();
      assert.equal(await s.openProvisioning(q, 10, 100), 'opened');
      assert.equal(await s.putProvisioningMessage(q, bytes(8), 100), 'unknown', 'expired');
      assert.equal(await s.openProvisioning(id(), 200, 300), 'opened'); // sweeps q
      assert.equal(await s.openProvisioning(q, 200, 300), 'opened', 'an expired id can be opened again');
      assert.equal(await s.putProvisioningMessage(q, bytes(8), 250), 'stored');
      assert.equal(await s.takeProvisioningMessage(q, 300), undefined, 'expired messages are not handed out');
    });

    it('rejects calls after close', async () => {
      const s = await factory();
      await s.close();
      await assert.rejects(s.getDevice(id()));
      await assert.rejects(s.enqueue({ recipientDeviceId: id(), messageId: id(), envelope: bytes(1), receivedAt: 1, expiresAt: 2 }, LIMITS));
      await s.close(); // idempotent
    });
  });
}
