/** Sender keys: round trips, padding, out-of-order and duplicates, limits, tampering, forgery, epoch binding, redaction. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createNobleBackend, defaultBackend, toHex } from '@pigeon/crypto';
import {
  MAX_GROUP_SKIP,
  MAX_GROUP_SKIPPED_KEYS,
  PADDING_BLOCK,
  createAccountKeys,
  createGroup,
  createGroupChange,
  createGroupSenderKey,
  createSenderKey,
  decodeSenderKeyState,
  encodeSenderKeyState,
  groupDecrypt,
  groupEncrypt,
  needsRekey,
  processSenderKeyDistribution,
  senderKeyDecrypt,
  senderKeyDistributionOf,
  senderKeyEncrypt,
  senderKeyFromDistribution,
  senderKeysGroupProtocol,
} from '../src/index.js';
import type { AccountKeys, GroupDeviceRef, GroupState, SenderKeyState } from '../src/index.js';
import { expectCode } from './helpers.js';

const crypto = defaultBackend();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const context = { groupId: new Uint8Array(32).fill(7), epoch: 0, rosterHash: new Uint8Array(32).fill(9) };

let own: SenderKeyState;
let received: SenderKeyState;
before(async () => {
  own = await createSenderKey(crypto, context);
  received = senderKeyFromDistribution(senderKeyDistributionOf(own));
});

async function sendMany(count: number): Promise<Uint8Array[]> {
  let s = own;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const r = await senderKeyEncrypt(crypto, s, enc(`m${i}`));
    s = r.state;
    out.push(r.message);
  }
  return out;
}

describe('sender keys', () => {
  it('round-trips, pads to 160-byte blocks and signs; noble and node interoperate', async () => {
    const { message, state } = await senderKeyEncrypt(crypto, own, enc('hello'));
    assert.equal(state.iteration, 1);
    assert.equal(own.iteration, 0, 'input not mutated');
    assert.equal(message.length, 21 + PADDING_BLOCK + 16 + 64);
    assert.equal(dec((await senderKeyDecrypt(createNobleBackend(), received, message)).plaintext), 'hello');
    const big = await senderKeyEncrypt(createNobleBackend(), own, new Uint8Array(PADDING_BLOCK));
    assert.equal(big.message.length, 21 + 2 * PADDING_BLOCK + 16 + 64);
    assert.equal((await senderKeyDecrypt(crypto, received, big.message)).plaintext.length, PADDING_BLOCK);
  });

  it('out of order delivery works once per message; duplicates are refused and leave the state as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 11 }), { minLength: 1, maxLength: 30 }), async (picks) => {
        const messages = await sendMany(12);
        const seen = new Set<number>();
        let s = received;
        for (const i of picks) {
          const before = encodeSenderKeyState(s);
          if (seen.has(i)) {
            await expectCode(senderKeyDecrypt(crypto, s, messages[i]!), 'DUPLICATE_MESSAGE');
            assert.deepEqual(encodeSenderKeyState(s), before);
          } else {
            const r = await senderKeyDecrypt(crypto, s, messages[i]!);
            assert.equal(dec(r.plaintext), `m${i}`);
            assert.deepEqual(encodeSenderKeyState(s), before, 'input state not mutated');
            s = r.state;
            seen.add(i);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it(`MAX_GROUP_SKIP (${MAX_GROUP_SKIP}) and MAX_GROUP_SKIPPED_KEYS (${MAX_GROUP_SKIPPED_KEYS}) bound the work and the memory`, async () => {
    const far = { ...own, iteration: MAX_GROUP_SKIP + 1 } as SenderKeyState;
    // Same chain key at a fake iteration: the receiver refuses before walking the chain.
    const jump = (await senderKeyEncrypt(crypto, Object.assign(Object.create(Object.getPrototypeOf(own)), far), enc('x'))).message;
    await expectCode(senderKeyDecrypt(crypto, received, jump), 'TOO_MANY_SKIPPED');
    const messages = await sendMany(MAX_GROUP_SKIPPED_KEYS + 3);
    const r = await senderKeyDecrypt(crypto, received, messages[messages.length - 1]!);
    assert.equal(r.state.skipped.length, MAX_GROUP_SKIPPED_KEYS);
    // The oldest skipped keys were evicted (never computed); the newest still work.
    await expectCode(senderKeyDecrypt(crypto, r.state, messages[0]!), 'DUPLICATE_MESSAGE');
    await expectCode(senderKeyDecrypt(crypto, r.state, messages[1]!), 'DUPLICATE_MESSAGE');
    assert.equal(dec((await senderKeyDecrypt(crypto, r.state, messages[5]!)).plaintext), 'm5');
    assert.deepEqual(decodeSenderKeyState(encodeSenderKeyState(r.state)).skipped.length, MAX_GROUP_SKIPPED_KEYS);
  });

  it('tampered or forged messages are refused without advancing the chain', async () => {
    const [m] = await sendMany(1);
    for (let i = 0; i < m!.length; i++) {
      const t = m!.slice();
      t[i]! ^= 0x40;
      await assert.rejects(senderKeyDecrypt(crypto, received, t), (e: { code?: string }) => ['BAD_SIGNATURE', 'UNKNOWN_SENDER_KEY', 'UNKNOWN_VERSION'].includes(e.code!));
    }
    // A member who knows the chain key (it received the distribution) but not the signing key cannot forge.
    const impostor = { ...(await createSenderKey(crypto, context)), distributionId: own.distributionId, chainKey: own.chainKey };
    const forged = await senderKeyEncrypt(crypto, Object.assign(Object.create(Object.getPrototypeOf(own)), impostor), enc('forged'));
    await expectCode(senderKeyDecrypt(crypto, received, forged.message), 'BAD_SIGNATURE');
    const other = senderKeyFromDistribution(senderKeyDistributionOf(await createSenderKey(crypto, context)));
    await expectCode(senderKeyDecrypt(crypto, other, m!), 'UNKNOWN_SENDER_KEY');
    await expectCode(senderKeyEncrypt(crypto, received, enc('x')), 'NO_SESSION');
    assert.equal(dec((await senderKeyDecrypt(crypto, received, m!)).plaintext), 'm0');
  });

  it('never shows secrets in JSON, inspect or String()', () => {
    for (const text of [JSON.stringify(own), inspect(own), String(own), inspect(received)]) {
      assert.ok(!text.includes(toHex(own.chainKey)), text);
      assert.ok(!text.includes(toHex(own.signingSecretKey!)), text);
    }
  });
});

describe('sender keys bound to group epochs', () => {
  let admin: AccountKeys;
  let bob: AccountKeys;
  let carol: AccountKeys;
  let group: GroupState;
  const aDev: GroupDeviceRef[] = [];
  before(async () => {
    admin = await createAccountKeys(crypto);
    bob = await createAccountKeys(crypto);
    carol = await createAccountKeys(crypto);
    const ids = [crypto.randomBytes(16), crypto.randomBytes(16), crypto.randomBytes(16)];
    group = await createGroup(
      crypto,
      { accountKey: admin.signing.publicKey, devices: [ids[0]!] },
      { name: 'g', members: [{ accountKey: bob.signing.publicKey, devices: [ids[1]!] }, { accountKey: carol.signing.publicKey, devices: [ids[2]!] }] },
    );
    aDev.push(...[admin, bob, carol].map((a, i) => ({ accountKey: a.signing.publicKey, deviceId: ids[i]! })));
  });

  it('a removal makes old keys unusable for sending and for receiving; a newcomer gets no old keys', async () => {
    const [a, b, c] = aDev as [GroupDeviceRef, GroupDeviceRef, GroupDeviceRef];
    const bobKey = await createGroupSenderKey(crypto, group, b);
    assert.equal(needsRekey(group, b, bobKey.senderKey), false);
    const atAdmin = processSenderKeyDistribution(group, b, bobKey.distribution);
    const sent = await groupEncrypt(crypto, group, b, bobKey.senderKey, enc('before'));
    assert.equal(dec((await groupDecrypt(crypto, group, b, atAdmin, sent.message)).plaintext), 'before');
    // Carol is removed: epoch 1, rekeyEpoch 1.
    const after = (await createGroupChange(crypto, group, admin, [{ type: 'remove-member', accountKey: carol.signing.publicKey }])).state;
    assert.equal(needsRekey(after, b, sent.senderKey), true);
    await expectCode(groupEncrypt(crypto, after, b, sent.senderKey, enc('reuse')), 'STALE_SENDER_KEY');
    // Even if Bob's client sent with the old key anyway, receivers on the new epoch refuse it.
    const sneaky = await senderKeyEncrypt(crypto, sent.senderKey, enc('sneaky'));
    await expectCode(groupDecrypt(crypto, after, b, atAdmin, sneaky.message), 'STALE_SENDER_KEY');
    await expectCode(Promise.resolve().then(() => processSenderKeyDistribution(after, b, bobKey.distribution)), 'STALE_SENDER_KEY');
    // Carol is no member any more: nothing from her is accepted.
    const carolKey = await createGroupSenderKey(crypto, group, c);
    await expectCode(Promise.resolve().then(() => processSenderKeyDistribution(after, c, carolKey.distribution)), 'NOT_A_MEMBER');
    await expectCode(createGroupSenderKey(crypto, after, c), 'NOT_A_MEMBER');
    // A fresh key at the new epoch works.
    const fresh = await createGroupSenderKey(crypto, after, b);
    const atAdmin2 = processSenderKeyDistribution(after, b, fresh.distribution);
    const m = await groupEncrypt(crypto, after, b, fresh.senderKey, enc('after'));
    assert.equal(dec((await groupDecrypt(crypto, after, b, atAdmin2, m.message)).plaintext), 'after');
    // Adds need no rekey: the current key is handed to the newcomer at its current iteration.
    const dave = await createAccountKeys(crypto);
    const withDave = (await createGroupChange(crypto, after, admin, [{ type: 'add-member', accountKey: dave.signing.publicKey, admin: false, devices: [crypto.randomBytes(16)] }])).state;
    assert.equal(needsRekey(withDave, b, m.senderKey), false);
    const atDave = processSenderKeyDistribution(withDave, b, senderKeysGroupProtocol.distributionOf(m.senderKey));
    await expectCode(groupDecrypt(crypto, withDave, b, atDave, m.message), 'DUPLICATE_MESSAGE');
    const next = await groupEncrypt(crypto, withDave, b, m.senderKey, enc('welcome'));
    assert.equal(dec((await groupDecrypt(crypto, withDave, b, atDave, next.message)).plaintext), 'welcome');
    void a;
  });

  it('a key made on a roster that a fork switch threw away must be replaced', async () => {
    const [, b] = aDev as [GroupDeviceRef, GroupDeviceRef];
    const x = await createGroupChange(crypto, group, admin, [{ type: 'rename', name: 'x' }]);
    const y = await createGroupChange(crypto, group, admin, [{ type: 'rename', name: 'y' }]);
    const [low, high] = toHex(x.state.roster.lastChange) < toHex(y.state.roster.lastChange) ? [x, y] : [y, x];
    const key = await createGroupSenderKey(crypto, high.state, b);
    assert.equal(needsRekey(high.state, b, key.senderKey), false);
    const { applyGroupChange } = await import('../src/index.js');
    const switched = await applyGroupChange(crypto, high.state, low.change);
    assert.equal(switched.orphaned.length, 1);
    assert.equal(needsRekey(switched.state, b, key.senderKey), true);
  });
});
