import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createNobleBackend } from '@pigeon/crypto';
import {
  MAX_PLAINTEXT_BYTES,
  PADDING_BLOCK,
  SAFETY_NUMBER_DIGITS,
  computeSafetyNumber,
  createAccountKeys,
  formatSafetyNumber,
  padPlaintext,
  sessionEncrypt,
  unpadPlaintext,
  verifySafetyNumberQr,
} from '../src/index.js';
import { NOW, bundleOf, expectCode, makeParty } from './helpers.js';
import { initiateSession } from '../src/index.js';

const crypto = createNobleBackend();

describe('padding', () => {
  it('pads to whole 160-byte blocks and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (p) => {
        const padded = padPlaintext(p);
        assert.equal(padded.length % PADDING_BLOCK, 0);
        assert.ok(padded.length > p.length && padded.length <= p.length + PADDING_BLOCK);
        assert.deepEqual(unpadPlaintext(padded), p);
      }),
      { numRuns: 200 },
    );
  });

  it('bounds: 0 -> 160, 159 -> 160, 160 -> 320; custom blocks', () => {
    assert.equal(padPlaintext(new Uint8Array(0)).length, 160);
    assert.equal(padPlaintext(new Uint8Array(159)).length, 160);
    assert.equal(padPlaintext(new Uint8Array(160)).length, 320);
    assert.equal(padPlaintext(new Uint8Array(5), 16).length, 16);
  });

  it('BAD_PADDING on bad input, BAD_FIELD on a bad block size', async () => {
    await expectCode(() => unpadPlaintext(new Uint8Array(0)), 'BAD_PADDING');
    await expectCode(() => unpadPlaintext(new Uint8Array(160)), 'BAD_PADDING');
    await expectCode(() => unpadPlaintext(Uint8Array.of(1, 2, 0x81, 0)), 'BAD_PADDING');
    await expectCode(() => unpadPlaintext(Uint8Array.of(0x80, 1)), 'BAD_PADDING');
    await expectCode(() => padPlaintext(new Uint8Array(1), 0), 'BAD_FIELD');
  });

  it('sessionEncrypt refuses plaintexts above MAX_PLAINTEXT_BYTES', async () => {
    const alice = await makeParty(crypto);
    const bob = await makeParty(crypto);
    const record = await initiateSession(crypto, alice.device, undefined, bundleOf(bob), NOW);
    await expectCode(sessionEncrypt(crypto, record, new Uint8Array(MAX_PLAINTEXT_BYTES + 1), NOW), 'FIELD_TOO_LARGE');
    const ok = await sessionEncrypt(crypto, record, new Uint8Array(MAX_PLAINTEXT_BYTES), NOW);
    assert.ok(ok.message.bytes.length < 256 * 1024 - 2048);
  });
});

describe('safety numbers', () => {
  it('are symmetric, 60 digits, and change when a key changes; QR verifies both ways', async () => {
    const a = { accountKey: (await createAccountKeys(crypto)).signing.publicKey };
    const b = { accountKey: (await createAccountKeys(crypto)).signing.publicKey };
    const c = { accountKey: (await createAccountKeys(crypto)).signing.publicKey };
    const ab = await computeSafetyNumber(crypto, a, b);
    const ba = await computeSafetyNumber(crypto, b, a);
    assert.equal(ab.digits, ba.digits);
    assert.equal(ab.digits.length, SAFETY_NUMBER_DIGITS);
    assert.match(ab.digits, /^[0-9]{60}$/);
    assert.notEqual((await computeSafetyNumber(crypto, a, c)).digits, ab.digits);
    assert.match(formatSafetyNumber(ab.digits), /^([0-9]{5} ){11}[0-9]{5}$/);
    assert.equal(await verifySafetyNumberQr(crypto, a, b, ba.qrPayload), true);
    assert.equal(await verifySafetyNumberQr(crypto, b, a, ab.qrPayload), true);
    assert.equal(await verifySafetyNumberQr(crypto, a, b, ab.qrPayload), false); // our own code, not theirs
    assert.equal(await verifySafetyNumberQr(crypto, a, c, ba.qrPayload), false);
    const tampered = ba.qrPayload.slice();
    tampered[10]! ^= 1;
    assert.equal(await verifySafetyNumberQr(crypto, a, b, tampered), false);
    await expectCode(verifySafetyNumberQr(crypto, a, b, ba.qrPayload.subarray(0, 10)), 'TRUNCATED');
    await expectCode(verifySafetyNumberQr(crypto, a, b, Uint8Array.of(7, ...ba.qrPayload.subarray(1))), 'UNKNOWN_VERSION');
    await expectCode(() => formatSafetyNumber('123'), 'BAD_FIELD');
    await expectCode(computeSafetyNumber(crypto, { accountKey: new Uint8Array(3) }, b), 'BAD_FIELD');
  });

  it('matches the numeric fingerprint construction (independent re-computation)', async () => {
    const key = new Uint8Array(32).map((_, i) => i);
    const other = new Uint8Array(32).map((_, i) => 255 - i);
    const id = (await crypto.sha256(key)).slice(0, 16);
    let hash: Uint8Array = new Uint8Array([0, 0, ...key, ...id]);
    for (let i = 0; i < 5200; i++) hash = await crypto.sha512(new Uint8Array([...hash, ...key]));
    let digits = '';
    for (let c = 0; c < 6; c++) {
      let v = 0n;
      for (let j = 0; j < 5; j++) v = (v << 8n) | BigInt(hash[c * 5 + j]!);
      digits += (v % 100000n).toString().padStart(5, '0');
    }
    const { digits: both, qrPayload } = await computeSafetyNumber(crypto, { accountKey: key }, { accountKey: other });
    assert.ok(both.startsWith(digits) || both.endsWith(digits));
    assert.deepEqual(qrPayload.subarray(1, 33), hash.subarray(0, 32));
  });
});
