import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createNobleBackend, toHex } from '@pigeon/crypto';
import {
  accountIdOf,
  authMessage,
  createAccountKeys,
  createDeviceKeys,
  decodeAccountKeys,
  decodeDeviceCertificate,
  decodeDeviceKeys,
  deviceIdOf,
  encodeAccountKeys,
  encodeDeviceCertificate,
  encodeDeviceKeys,
  formatPigeonId,
  generateKemPreKey,
  generateSignedPreKey,
  initiateSession,
  parsePigeonId,
  verifyDeviceCertificate,
} from '../src/index.js';
import { NOW, bundleOf, expectCode, makeParty } from './helpers.js';

const crypto = createNobleBackend();

describe('identity', () => {
  it('device certificates verify, round-trip, and reject any change', async () => {
    const account = await createAccountKeys(crypto);
    const device = await createDeviceKeys(crypto, account, NOW);
    await verifyDeviceCertificate(crypto, device.certificate);
    const bytes = encodeDeviceCertificate(device.certificate);
    assert.equal(bytes[0], 1);
    assert.deepEqual(decodeDeviceCertificate(bytes), device.certificate);
    for (const field of ['accountKey', 'deviceSigningKey', 'deviceIdentityKey', 'signature'] as const) {
      const changed = device.certificate[field].slice();
      changed[0]! ^= 1;
      await expectCode(verifyDeviceCertificate(crypto, { ...device.certificate, [field]: changed }), 'BAD_CERTIFICATE');
    }
    await expectCode(verifyDeviceCertificate(crypto, { ...device.certificate, createdAt: NOW + 1 }), 'BAD_CERTIFICATE');
    // Signed by another account key.
    const other = await createAccountKeys(crypto);
    await expectCode(verifyDeviceCertificate(crypto, { ...device.certificate, accountKey: other.signing.publicKey }), 'BAD_CERTIFICATE');
  });

  it('account and device keys round-trip through storage', async () => {
    const account = await createAccountKeys(crypto);
    const device = await createDeviceKeys(crypto, account, NOW);
    const a2 = decodeAccountKeys(encodeAccountKeys(account));
    assert.deepEqual(a2.signing.secretKey, account.signing.secretKey);
    assert.deepEqual(a2.signing.publicKey, account.signing.publicKey);
    const d2 = decodeDeviceKeys(encodeDeviceKeys(device));
    assert.deepEqual(encodeDeviceKeys(d2), encodeDeviceKeys(device));
    assert.deepEqual(d2.certificate, device.certificate);
  });

  it('secrets never appear in JSON, inspect or String()', async () => {
    const party = await makeParty(crypto);
    const record = await initiateSession(crypto, party.device, undefined, bundleOf(await makeParty(crypto)), NOW);
    const secrets = [
      party.account.signing.secretKey,
      party.device.signing.secretKey,
      party.device.identity.secretKey,
      party.signed.keyPair.secretKey,
      party.oneTime[0]!.keyPair.secretKey,
    ].map((s) => toHex(s));
    const kemSecretPrefix = toHex(party.kemOneTime.keyPair.secretKey.subarray(0, 16));
    const texts = [
      JSON.stringify(party),
      inspect(party, { depth: 10 }),
      String(party.device),
      String(party.account),
      JSON.stringify(record),
      inspect(record, { depth: 10 }),
      inspect(party.signed.keyPair),
      `${party.device.identity}`,
    ];
    for (const text of texts) {
      for (const secret of secrets) assert.ok(!text.includes(secret), 'secret leaked');
      assert.ok(!text.includes(kemSecretPrefix), 'KEM secret leaked');
      // Also not as a JSON/inspect byte list.
      assert.ok(!text.includes(Array.from(party.device.identity.secretKey.subarray(0, 6)).join(',')));
      assert.ok(!text.includes(Array.from(party.device.identity.secretKey.subarray(0, 6)).join(', ')));
    }
    // The plain contract shape is still there for code that needs it.
    assert.equal(party.device.identity.secretKey.length, 32);
    assert.deepEqual(Object.keys(party.device.identity).sort(), ['publicKey', 'secretKey']);
  });

  it('ids are SHA-256(key)[0..16]; Pigeon IDs format and parse', async () => {
    const account = await createAccountKeys(crypto);
    const id = await accountIdOf(crypto, account.signing.publicKey);
    assert.deepEqual(id, (await crypto.sha256(account.signing.publicKey)).slice(0, 16));
    const device = await createDeviceKeys(crypto, account, NOW);
    assert.deepEqual(await deviceIdOf(crypto, device.signing.publicKey), (await crypto.sha256(device.signing.publicKey)).slice(0, 16));
    const text = formatPigeonId(id);
    assert.match(text, /^[a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{5}-[a-z2-7]{6}$/);
    assert.deepEqual(parsePigeonId(text), id);
    assert.deepEqual(parsePigeonId(text.toUpperCase().replace(/-/g, ' ')), id);
    assert.equal(formatPigeonId(new Uint8Array(16)), 'aaaaa-aaaaa-aaaaa-aaaaa-aaaaaa');
    assert.equal(formatPigeonId(new Uint8Array(16).fill(0xff)), '77777-77777-77777-77777-777774');
    await expectCode(() => formatPigeonId(new Uint8Array(15)), 'BAD_FIELD');
    await expectCode(() => parsePigeonId('not an id'), 'BAD_FIELD');
    await expectCode(() => parsePigeonId('77777-77777-77777-77777-777777'), 'BAD_FIELD');
    await expectCode(accountIdOf(crypto, new Uint8Array(3)), 'BAD_FIELD');
  });

  it('authMessage is domain-separated and bounded', async () => {
    const nonce = new Uint8Array(32).fill(7);
    const m = authMessage(nonce);
    assert.ok(m.length > nonce.length);
    assert.deepEqual(m.subarray(m.length - 32), nonce);
    assert.notDeepEqual(authMessage(new Uint8Array(32)), m);
    await expectCode(() => authMessage(new Uint8Array(0)), 'BAD_FIELD');
    await expectCode(() => authMessage(new Uint8Array(257)), 'BAD_FIELD');
  });

  it('prekey generation signs with the device key', async () => {
    const account = await createAccountKeys(crypto);
    const device = await createDeviceKeys(crypto, account, NOW);
    const spk = await generateSignedPreKey(crypto, device, 7, NOW);
    const kem = await generateKemPreKey(crypto, device, 8, true, NOW);
    assert.equal(spk.id, 7);
    assert.equal(kem.lastResort, true);
    assert.equal(kem.keyPair.publicKey.length, 1568);
    await expectCode(generateSignedPreKey(crypto, device, -1, NOW), 'BAD_FIELD');
  });
});
