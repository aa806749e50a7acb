/** Every decoder: round trips, truncation at any point, trailing bytes, unknown versions, random input. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createNobleBackend } from '@pigeon/crypto';
import {
  ProtocolError,
  Reader,
  Writer,
  decodeAccountKeys,
  decodeDeviceCertificate,
  decodeDeviceKeys,
  decodeKemPreKey,
  decodeOneTimePreKey,
  decodePreKeyBundle,
  decodeSessionRecord,
  decodeSignedPreKey,
  encodeAccountKeys,
  encodeDeviceCertificate,
  encodeDeviceKeys,
  encodeKemPreKey,
  encodeOneTimePreKey,
  encodePreKeyBundle,
  encodeSessionRecord,
  encodeSignedPreKey,
  initiateSession,
  openSealedMessage,
  sessionDecrypt,
  verifySafetyNumberQr,
} from '../src/index.js';
import { NOW, bundleOf, establish, expectCode, makeParty, receive, send } from './helpers.js';
import type { Party } from './helpers.js';
import { assertFramingRefused, assertGarbageOnlyRaisesProtocolErrors, assertRoundTrip, codecCase as c } from './codec-fuzz.js';
import type { CodecCase } from './codec-fuzz.js';

const crypto = createNobleBackend();

let cases: CodecCase[] = [];
let alice: Party;
let bob: Party;

before(async () => {
  alice = await makeParty(crypto);
  bob = await makeParty(crypto);
  const { a, b } = await establish(crypto, alice, bob);
  // Records with an archived session, a pending prekey header and skipped keys, to exercise every part of the encoding.
  const pending = { party: alice, record: await initiateSession(crypto, alice.device, a.record, bundleOf(bob, { oneTime: 1 }), NOW) };
  await send(crypto, a, 'skipped');
  await receive(crypto, b, a, await send(crypto, a, 'received'));
  cases = [
    c('certificate', encodeDeviceCertificate(alice.device.certificate), decodeDeviceCertificate, encodeDeviceCertificate as CodecCase['encode']),
    c('account keys', encodeAccountKeys(alice.account), decodeAccountKeys, encodeAccountKeys as CodecCase['encode']),
    c('device keys', encodeDeviceKeys(alice.device), decodeDeviceKeys, encodeDeviceKeys as CodecCase['encode']),
    c('signed prekey', encodeSignedPreKey(alice.signed), decodeSignedPreKey, encodeSignedPreKey as CodecCase['encode']),
    c('one-time prekey', encodeOneTimePreKey(alice.oneTime[0]!), decodeOneTimePreKey, encodeOneTimePreKey as CodecCase['encode']),
    c('KEM prekey', encodeKemPreKey(alice.kemLastResort), decodeKemPreKey, encodeKemPreKey as CodecCase['encode']),
    c('bundle', encodePreKeyBundle(bundleOf(bob)), decodePreKeyBundle, encodePreKeyBundle as CodecCase['encode']),
    c('bundle without one-time prekey', encodePreKeyBundle(bundleOf(bob, { oneTime: null })), decodePreKeyBundle, encodePreKeyBundle as CodecCase['encode']),
    c('session record', encodeSessionRecord(b.record!), decodeSessionRecord, encodeSessionRecord as CodecCase['encode']),
    c('pending session record', encodeSessionRecord(pending.record!), decodeSessionRecord, encodeSessionRecord as CodecCase['encode']),
  ];
});

describe('codec', () => {
  it('Writer and Reader agree and guard their bounds', async () => {
    const bytes = new Writer(1).u8(1).u16(2).u32(3).u64(2 ** 53 - 1).bool(true).fixed(Uint8Array.of(9), 1).bytes(Uint8Array.of(5, 6), 2).string('é', 4).finish();
    const r = new Reader(bytes);
    assert.deepEqual([r.u8(), r.u16(), r.u32(), r.u64(), r.bool()], [1, 2, 3, 2 ** 53 - 1, true]);
    assert.deepEqual(r.fixed(1), Uint8Array.of(9));
    assert.deepEqual(r.bytes(2), Uint8Array.of(5, 6));
    assert.equal(r.string(4), 'é');
    r.end();
    await expectCode(() => new Writer().u64(2 ** 53), 'BAD_FIELD');
    await expectCode(() => new Writer().bytes(new Uint8Array(3), 2), 'FIELD_TOO_LARGE');
    await expectCode(() => new Reader(new Writer().bytes(new Uint8Array(3), 3).finish()).bytes(2), 'FIELD_TOO_LARGE');
    await expectCode(() => new Reader(Uint8Array.of(1)).u16(), 'TRUNCATED');
    await expectCode(() => new Reader(Uint8Array.of(1)).end(), 'TRAILING_BYTES');
  });

  it('every encoding round-trips and starts with its version byte', () => {
    for (const k of cases) assertRoundTrip(k);
  });

  it('truncation -> TRUNCATED (or another ProtocolError), trailing bytes -> TRAILING_BYTES, unknown version -> UNKNOWN_VERSION', async () => {
    for (const k of cases) await assertFramingRefused(k, k.bytes.length > 600 ? 37 : 1, 99);
    // Cut right before the end of the last fixed field: exactly TRUNCATED.
    await expectCode(() => decodeDeviceCertificate(cases[0]!.bytes.subarray(0, cases[0]!.bytes.length - 1)), 'TRUNCATED');
  });

  it('an oversized length prefix -> FIELD_TOO_LARGE before allocating', async () => {
    const bundle = cases.find((c) => c.name === 'bundle')!.bytes.slice();
    bundle.set([0xff, 0xff, 0xff, 0xff], 1); // the certificate's length prefix
    await expectCode(() => decodePreKeyBundle(bundle), 'FIELD_TOO_LARGE');
    const record = cases.find((c) => c.name === 'session record')!.bytes.slice();
    record.set([0x7f, 0xff, 0xff, 0xff], 1);
    await expectCode(() => decodeSessionRecord(record), 'FIELD_TOO_LARGE');
  });

  it('random bytes, mutations and truncations only ever raise ProtocolError', () => {
    assertGarbageOnlyRaisesProtocolErrors(cases, 400);
  });

  it('session, sealed-sender and QR entry points only ever raise ProtocolError on garbage', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (noise, versioned) => {
        const bytes = versioned ? new Uint8Array([1, ...noise]) : noise;
        for (const kind of ['prekey', 'whisper'] as const) {
          await assert.rejects(
            sessionDecrypt(crypto, bob.device, undefined, bob.store, alice.device.certificate, { kind, bytes }, NOW),
            (e) => e instanceof ProtocolError,
          );
        }
        await assert.rejects(openSealedMessage(crypto, bob.device, bytes, NOW), (e) => e instanceof ProtocolError);
        try {
          await verifySafetyNumberQr(crypto, { accountKey: alice.account.signing.publicKey }, { accountKey: bob.account.signing.publicKey }, bytes);
        } catch (e) {
          assert.ok(e instanceof ProtocolError);
        }
      }),
      { numRuns: 40 },
    );
    await expectCode(
      sessionDecrypt(crypto, bob.device, undefined, bob.store, alice.device.certificate, { kind: 'other' as 'whisper', bytes: new Uint8Array(1) }, NOW),
      'UNKNOWN_TYPE',
    );
  });
});
