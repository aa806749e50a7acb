import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createNobleBackend, equalBytes } from '@pigeon/crypto';
import { ProtocolError, createDeviceKeys, openSealedMessage, sealMessage } from '../src/index.js';
import type { CiphertextMessage, DeviceKeys } from '../src/index.js';
import { NOW, expectCode, makeParty } from './helpers.js';

const crypto = createNobleBackend();

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('sealed sender', () => {
  it('round-trips and authenticates the sender; hides the sender identity', async () => {
    const alice = await makeParty(crypto);
    const bob = await makeParty(crypto);
    for (const kind of ['prekey', 'whisper'] as const) {
      const message: CiphertextMessage = { kind, bytes: crypto.randomBytes(300) };
      const envelope = await sealMessage(crypto, alice.device, bob.device.certificate, message);
      assert.equal(envelope[0], 1);
      assert.ok(!contains(envelope, alice.device.identity.publicKey));
      assert.ok(!contains(envelope, alice.account.signing.publicKey));
      const opened = await openSealedMessage(crypto, bob.device, envelope, NOW);
      assert.deepEqual(opened.sender, alice.device.certificate);
      assert.deepEqual(opened.message, message);
    }
  });

  it('wrong recipient -> DECRYPT_FAILED; tampering -> ProtocolError', async () => {
    const alice = await makeParty(crypto);
    const bob = await makeParty(crypto);
    const eve = await makeParty(crypto);
    const envelope = await sealMessage(crypto, alice.device, bob.device.certificate, { kind: 'whisper', bytes: new Uint8Array(200) });
    await expectCode(openSealedMessage(crypto, eve.device, envelope, NOW), 'DECRYPT_FAILED');
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (bit) => {
        const tampered = envelope.slice();
        const b = bit % (tampered.length * 8);
        tampered[b >> 3]! ^= 1 << (b & 7);
        await assert.rejects(openSealedMessage(crypto, bob.device, tampered, NOW), (e) => e instanceof ProtocolError);
      }),
      { numRuns: 50 },
    );
  });

  it('a forged or mismatched sender certificate -> BAD_CERTIFICATE', async () => {
    const alice = await makeParty(crypto);
    const bob = await makeParty(crypto);
    const mallory = await makeParty(crypto);
    const message: CiphertextMessage = { kind: 'whisper', bytes: new Uint8Array(10) };
    // Mallory seals with her own identity key but claims a certificate "signed" by Alice's account.
    const sig = mallory.device.certificate.signature.slice();
    sig[0]! ^= 1;
    const forged: DeviceKeys = {
      ...mallory.device,
      certificate: { ...mallory.device.certificate, accountKey: alice.account.signing.publicKey, signature: sig },
    };
    await expectCode(openSealedMessage(crypto, bob.device, await sealMessage(crypto, forged, bob.device.certificate, message), NOW), 'BAD_CERTIFICATE');
    // Mallory presents Alice's genuine certificate, but she cannot seal with Alice's identity key.
    const impostor: DeviceKeys = { ...mallory.device, certificate: alice.device.certificate };
    await expectCode(openSealedMessage(crypto, bob.device, await sealMessage(crypto, impostor, bob.device.certificate, message), NOW), 'BAD_CERTIFICATE');
    // A valid certificate of another device of Alice's account does not cover Mallory's key either.
    const second = await createDeviceKeys(crypto, alice.account, NOW);
    assert.ok(!equalBytes(second.identity.publicKey, mallory.device.identity.publicKey));
    const borrowed: DeviceKeys = { ...mallory.device, certificate: second.certificate };
    await expectCode(openSealedMessage(crypto, bob.device, await sealMessage(crypto, borrowed, bob.device.certificate, message), NOW), 'BAD_CERTIFICATE');
  });

  it('rejects malformed envelopes with typed errors', async () => {
    const bob = await makeParty(crypto);
    await expectCode(openSealedMessage(crypto, bob.device, new Uint8Array(0), NOW), 'TRUNCATED');
    await expectCode(openSealedMessage(crypto, bob.device, Uint8Array.of(9, 1, 2), NOW), 'UNKNOWN_VERSION');
    await expectCode(openSealedMessage(crypto, bob.device, Uint8Array.of(1, 1, 2), NOW), 'TRUNCATED');
    await expectCode(openSealedMessage(crypto, bob.device, new Uint8Array(100).fill(1), NOW), 'DECRYPT_FAILED');
  });
});
