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

const crypto = createNobleBackend();

interface Case {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly decode: (b: Uint8Array) => unknown;
  readonly encode: (v: never) => Uint8Array;
}

let cases: Case[] = [];
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
  const c = (name: string, bytes: Uint8Array, decode: Case['decode'], encode: Case['encode']): Case => ({ name, bytes, decode, encode });
  cases = [
    c('certificate', encodeDeviceCertificate(alice.device.certificate), decodeDeviceCertificate, encodeDeviceCertificate as Case['encode']),
    c('account keys', encodeAccountKeys(alice.account), decodeAccountKeys, encodeAccountKeys as Case['encode']),
    c('device keys', encodeDeviceKeys(alice.device), decodeDeviceKeys, encodeDeviceKeys as Case['encode']),
    c('signed prekey', encodeSignedPreKey(alice.signed), decodeSignedPreKey, encodeSignedPreKey as Case['encode']),
    c('one-time prekey', encodeOneTimePreKey(alice.oneTime[0]!), decodeOneTimePreKey, encodeOneTimePreKey as Case['encode']),
    c('KEM prekey', encodeKemPreKey(alice.kemLastResort), decodeKemPreKey, encodeKemPreKey as Case['encode']),
    c('bundle', encodePreKeyBundle(bundleOf(bob)), decodePreKeyBundle, encodePreKeyBundle as Case['encode']),
    c('bundle without one-time prekey', encodePreKeyBundle(bundleOf(bob, { oneTime: null })), decodePreKeyBundle, encodePreKeyBundle as Case['encode']),
    c('session record', encodeSessionRecord(b.record!), decodeSessionRecord, encodeSessionRecord as Case['encode']),
    c('pending session record', encodeSessionRecord(pending.record!), decodeSessionRecord, encodeSessionRecord as Case['encode']),
  ];
});

function onlyProtocolErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `non-protocol error: ${String(error)}`);
  }
}

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
    for (const c of cases) {
      assert.equal(c.bytes[0], 1, c.name);
      assert.deepEqual(c.encode(c.decode(c.bytes) as never), c.bytes, c.name);
    }
  });

  it('truncation -> TRUNCATED (or another ProtocolError), trailing bytes -> TRAILING_BYTES, unknown version -> UNKNOWN_VERSION', async () => {
    for (const c of cases) {
      const step = c.bytes.length > 600 ? 37 : 1;
      for (let n = 0; n < c.bytes.length; n += step) {
        assert.throws(() => c.decode(c.bytes.subarray(0, n)), (e) => e instanceof ProtocolError, `${c.name} cut at ${n}`);
      }
      await expectCode(() => c.decode(new Uint8Array([...c.bytes, 0])), 'TRAILING_BYTES');
      await expectCode(() => c.decode(new Uint8Array([99, ...c.bytes.subarray(1)])), 'UNKNOWN_VERSION');
    }
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
    fc.assert(
      fc.property(fc.nat(), fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (which, noise, pos, cut) => {
        const c = cases[which % cases.length]!;
        onlyProtocolErrors(() => c.decode(noise));
        onlyProtocolErrors(() => c.decode(new Uint8Array([1, ...noise])));
        const mutated = c.bytes.slice();
        mutated[pos % mutated.length] = noise[0] ?? 0xff;
        onlyProtocolErrors(() => c.decode(mutated.subarray(0, mutated.length - (cut % 3))));
      }),
      { numRuns: 400 },
    );
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
