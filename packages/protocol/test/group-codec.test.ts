/** Every group decoder: round trips, truncation, trailing bytes, unknown versions, oversized fields, random input. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultBackend } from '@pigeon/crypto';
import {
  ProtocolError,
  createAccountKeys,
  createGroup,
  createGroupChange,
  createSenderKey,
  decodeGroupChange,
  decodeGroupRoster,
  decodeGroupState,
  decodeSenderKeyDistribution,
  decodeSenderKeyState,
  encodeGroupChange,
  encodeGroupRoster,
  encodeGroupState,
  encodeSenderKeyDistribution,
  encodeSenderKeyState,
  senderKeyDecrypt,
  senderKeyDistributionOf,
  senderKeyEncrypt,
  senderKeyFromDistribution,
} from '../src/index.js';
import type { SenderKeyState } from '../src/index.js';
import { expectCode } from './helpers.js';
import { assertFramingRefused, assertGarbageOnlyRaisesProtocolErrors, assertRoundTrip, codecCase as c } from './codec-fuzz.js';
import type { CodecCase } from './codec-fuzz.js';

const crypto = defaultBackend();

let cases: CodecCase[] = [];
let received: SenderKeyState;
let message: Uint8Array;

before(async () => {
  const admin = await createAccountKeys(crypto);
  const member = await createAccountKeys(crypto);
  const group = await createGroup(crypto, { accountKey: admin.signing.publicKey, devices: [crypto.randomBytes(16), crypto.randomBytes(16)] }, { name: 'codec ✓', members: [{ accountKey: member.signing.publicKey, devices: [crypto.randomBytes(16)] }] });
  const changed = await createGroupChange(crypto, group, admin, [
    { type: 'add-member', accountKey: crypto.randomBytes(32), admin: true, devices: [crypto.randomBytes(16)] },
    { type: 'rename', name: 'renamed' },
    { type: 'set-admin', accountKey: member.signing.publicKey, admin: true },
    { type: 'set-devices', accountKey: admin.signing.publicKey, devices: [crypto.randomBytes(16)] },
    { type: 'remove-member', accountKey: member.signing.publicKey },
  ]);
  const own = await createSenderKey(crypto, { groupId: group.roster.groupId, epoch: 1, rosterHash: changed.state.hash });
  received = senderKeyFromDistribution(senderKeyDistributionOf(own));
  let s = own;
  for (let i = 0; i < 3; i++) s = (await senderKeyEncrypt(crypto, s, new Uint8Array(3))).state;
  message = (await senderKeyEncrypt(crypto, s, new Uint8Array(3))).message;
  const withSkipped = (await senderKeyDecrypt(crypto, received, message)).state;
  cases = [
    c('roster', encodeGroupRoster(changed.state.roster), decodeGroupRoster, encodeGroupRoster as CodecCase['encode']),
    c('change', encodeGroupChange(changed.change), decodeGroupChange, encodeGroupChange as CodecCase['encode']),
    c('group state', encodeGroupState(changed.state), decodeGroupState, encodeGroupState as CodecCase['encode']),
    c('distribution', encodeSenderKeyDistribution(senderKeyDistributionOf(own)), decodeSenderKeyDistribution, encodeSenderKeyDistribution as CodecCase['encode']),
    c('own sender key', encodeSenderKeyState(s), decodeSenderKeyState, encodeSenderKeyState as CodecCase['encode']),
    c('received sender key with skipped seeds', encodeSenderKeyState(withSkipped), decodeSenderKeyState, encodeSenderKeyState as CodecCase['encode']),
  ];
});

describe('group codecs', () => {
  it('round-trip, start with version 1, refuse truncation, trailing bytes and unknown versions', async () => {
    for (const k of cases) {
      assertRoundTrip(k);
      await assertFramingRefused(k, k.bytes.length > 400 ? 13 : 1, 2);
    }
  });

  it('oversized fields and counts are refused before allocating', async () => {
    const roster = cases[0]!.bytes.slice();
    roster.set([0xff, 0xff, 0xff, 0xff], 1 + 32 + 8 + 8 + 32); // name length prefix
    await expectCode(() => decodeGroupRoster(roster), 'FIELD_TOO_LARGE');
    const state = cases[2]!.bytes.slice();
    state.set([0x7f, 0xff, 0xff, 0xff], 1); // base roster length prefix
    await expectCode(() => decodeGroupState(state), 'FIELD_TOO_LARGE');
    const change = cases[1]!.bytes.slice();
    change.set([0xff, 0xff], 1 + 32 + 8 + 32 + 32); // op count
    await expectCode(() => decodeGroupChange(change), 'FIELD_TOO_LARGE');
    await expectCode(() => decodeGroupRoster(new Uint8Array(2 << 20)), 'FIELD_TOO_LARGE');
    await expectCode(senderKeyDecrypt(crypto, received, new Uint8Array(300_000).fill(1)), 'FIELD_TOO_LARGE');
    await expectCode(senderKeyDecrypt(crypto, received, Uint8Array.of(9, 1, 2)), 'UNKNOWN_VERSION');
    await expectCode(senderKeyDecrypt(crypto, received, message.subarray(0, 100)), 'TRUNCATED');
  });

  it('random bytes and mutations only ever raise ProtocolError', async () => {
    assertGarbageOnlyRaisesProtocolErrors(cases, 500);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (noise, versioned) => {
        await assert.rejects(senderKeyDecrypt(crypto, received, versioned ? new Uint8Array([1, ...noise]) : noise), (e) => e instanceof ProtocolError);
      }),
      { numRuns: 200 },
    );
  });
});
