import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNobleBackend } from '@pigeon/crypto';
import {
  createDeviceKeys,
  decodePreKeyBundle,
  encodePreKeyBundle,
  initiateSession,
  verifyPreKeyBundle,
  verifyPreKeySignature,
} from '../src/index.js';
import type { PreKeyBundle } from '../src/index.js';
import { NOW, bundleOf, expectCode, makeParty } from './helpers.js';

const crypto = createNobleBackend();

function flipped(bytes: Uint8Array, index = 0): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 1;
  return copy;
}

describe('prekey bundles', () => {
  it('round-trip and verify, with and without a one-time prekey', async () => {
    const bob = await makeParty(crypto);
    for (const bundle of [bundleOf(bob), bundleOf(bob, { oneTime: null, lastResort: true })]) {
      await verifyPreKeyBundle(crypto, bundle);
      assert.deepEqual(decodePreKeyBundle(encodePreKeyBundle(bundle)), bundle);
    }
  });

  it('rejects a bundle without a PQ prekey (MISSING_PQ_PREKEY)', async () => {
    const bob = await makeParty(crypto);
    const alice = await makeParty(crypto);
    const noKem = { ...bundleOf(bob), kemPreKey: null } as unknown as PreKeyBundle;
    await expectCode(verifyPreKeyBundle(crypto, noKem), 'MISSING_PQ_PREKEY');
    await expectCode(() => encodePreKeyBundle(noKem), 'MISSING_PQ_PREKEY');
    await expectCode(initiateSession(crypto, alice.device, undefined, noKem, NOW), 'MISSING_PQ_PREKEY');
    // On the wire: the hasKem flag is the byte after the one-time prekey; cut the KEM part off.
    const bytes = encodePreKeyBundle(bundleOf(bob));
    const cut = bytes.slice(0, bytes.length - (1 + 4 + 1568 + 64) + 1);
    cut[cut.length - 1] = 0;
    await expectCode(() => decodePreKeyBundle(cut), 'MISSING_PQ_PREKEY');
  });

  it('rejects bad signatures (BAD_SIGNATURE) and bad certificates (BAD_CERTIFICATE)', async () => {
    const bob = await makeParty(crypto);
    const alice = await makeParty(crypto);
    const good = bundleOf(bob);
    const spkSig = { ...good, signedPreKey: { ...good.signedPreKey, signature: flipped(good.signedPreKey.signature) } };
    const spkKey = { ...good, signedPreKey: { ...good.signedPreKey, publicKey: flipped(good.signedPreKey.publicKey) } };
    const spkId = { ...good, signedPreKey: { ...good.signedPreKey, id: good.signedPreKey.id + 1 } };
    const kemSig = { ...good, kemPreKey: { ...good.kemPreKey, signature: flipped(good.kemPreKey.signature, 5) } };
    const kemKey = { ...good, kemPreKey: { ...good.kemPreKey, publicKey: flipped(good.kemPreKey.publicKey, 100) } };
    // The KEM signature must not verify as a signed-prekey signature (kinds are domain-separated).
    const kemId = { ...good, kemPreKey: { ...good.kemPreKey, id: good.signedPreKey.id } };
    for (const bad of [spkSig, spkKey, spkId, kemSig, kemKey, kemId]) {
      await expectCode(verifyPreKeyBundle(crypto, bad), 'BAD_SIGNATURE');
      await expectCode(initiateSession(crypto, alice.device, undefined, bad, NOW), 'BAD_SIGNATURE');
    }
    // Prekeys signed by a device whose certificate is from another account.
    const badCert = { ...good, certificate: { ...good.certificate, signature: flipped(good.certificate.signature) } };
    await expectCode(verifyPreKeyBundle(crypto, badCert), 'BAD_CERTIFICATE');
    const otherDevice = await createDeviceKeys(crypto, alice.account, NOW);
    await expectCode(verifyPreKeyBundle(crypto, { ...good, certificate: otherDevice.certificate }), 'BAD_SIGNATURE');
  });

  it('verifyPreKeySignature throws BAD_SIGNATURE or resolves true', async () => {
    const bob = await makeParty(crypto);
    const key = bob.device.certificate.deviceSigningKey;
    assert.equal(await verifyPreKeySignature(crypto, key, 'signed', bob.signed.id, bob.signed.keyPair.publicKey, bob.signed.signature), true);
    assert.equal(await verifyPreKeySignature(crypto, key, 'kem', bob.kemOneTime.id, bob.kemOneTime.keyPair.publicKey, bob.kemOneTime.signature), true);
    await expectCode(verifyPreKeySignature(crypto, key, 'kem', bob.signed.id, bob.kemOneTime.keyPair.publicKey, bob.signed.signature), 'BAD_SIGNATURE');
    await expectCode(verifyPreKeySignature(crypto, key, 'signed', bob.signed.id, new Uint8Array(5), bob.signed.signature), 'BAD_FIELD');
  });
});
