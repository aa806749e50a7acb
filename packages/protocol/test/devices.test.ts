/** Linked devices (docs/protocol.md §13): signed device lists and the provisioning protocol. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { equalBytes, toHex } from '@pigeon/crypto';
import {
  MAX_LISTED_DEVICES,
  MAX_PROVISIONING_ENVELOPE_BYTES,
  MAX_PROVISIONING_EXTRA_BYTES,
  ProtocolError,
  acceptDeviceList,
  accountIdOf,
  addDevice,
  createAccountKeys,
  createDeviceKeys,
  createDeviceList,
  createProvisioningMessage,
  decodeDeviceList,
  decodeVerifiedDeviceList,
  deviceIdOf,
  deviceListIds,
  deviceListIncludes,
  encodeDeviceKeys,
  encodeDeviceList,
  encodeLinkCode,
  formatPigeonId,
  isDeviceRevoked,
  openProvisioningMessage,
  parseLinkCode,
  revokeDevice,
  startProvisioning,
  verifyDeviceList,
  type DeviceList,
} from '../src/index.js';
import { NOW, seededBackend } from './helpers.js';

const crypto = seededBackend(606);
const RELAY = 'wss://relay.example/pigeon';

async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === 'function' ? promise() : promise),
    (e: unknown) => e instanceof ProtocolError && e.code === code,
    `expected ${code}`,
  );
}

async function primary() {
  const account = await createAccountKeys(crypto);
  const device = await createDeviceKeys(crypto, account, NOW);
  const list = await createDeviceList(crypto, account, [device.certificate], NOW);
  return { account, device, list };
}

describe('device list', () => {
  it('is signed by the account key, round-trips and verifies', async () => {
    const { account, device, list } = await primary();
    assert.equal(list.counter, 1);
    assert.ok(deviceListIncludes(list, device.certificate));
    const bytes = encodeDeviceList(list);
    const back = await decodeVerifiedDeviceList(crypto, bytes, account.signing.publicKey);
    assert.deepEqual(encodeDeviceList(back), bytes);
    const ids = await deviceListIds(crypto, list);
    assert.ok(equalBytes(ids[0]!, await deviceIdOf(crypto, device.signing.publicKey)));
  });

  it('refuses a list not signed by the account key, or of another account', async () => {
    const { list } = await primary();
    const other = await primary();
    // Swap in another account key: the signature no longer verifies.
    await rejectsWith(verifyDeviceList(crypto, { ...list, accountKey: other.account.signing.publicKey }), 'BAD_SIGNATURE');
    await rejectsWith(verifyDeviceList(crypto, { ...list, counter: list.counter + 1 }), 'BAD_SIGNATURE');
    await rejectsWith(verifyDeviceList(crypto, list, other.account.signing.publicKey), 'IDENTITY_MISMATCH');
    const bytes = encodeDeviceList(list);
    for (let i = 0; i < bytes.length; i += 7) {
      const tampered = bytes.slice();
      tampered[i] = tampered[i]! ^ 0x01;
      await assert.rejects(decodeVerifiedDeviceList(crypto, tampered), ProtocolError);
    }
  });

  it('adds and revokes devices; a newer counter supersedes, an older or forked one is refused', async () => {
    const { account, device, list } = await primary();
    const laptop = await createDeviceKeys(crypto, account, NOW);
    const v2 = await addDevice(crypto, account, list, laptop.certificate, NOW + 1);
    assert.equal(v2.counter, 2);
    assert.ok(deviceListIncludes(v2, laptop.certificate));
    const laptopId = await deviceIdOf(crypto, laptop.signing.publicKey);
    const v3 = await revokeDevice(crypto, account, v2, laptopId, NOW + 2);
    assert.equal(v3.counter, 3);
    assert.ok(!deviceListIncludes(v3, laptop.certificate));
    assert.ok(isDeviceRevoked(v3, laptopId));
    assert.ok(deviceListIncludes(v3, device.certificate));

    const up = await acceptDeviceList(crypto, v2, v3);
    assert.equal(up.changed, true);
    assert.deepEqual(up.removed.map(toHex), [toHex(laptopId)]);
    assert.equal((await acceptDeviceList(crypto, v3, v3)).changed, false);
    await rejectsWith(acceptDeviceList(crypto, v3, v2), 'STALE_DEVICE_LIST');
    // Same counter, other contents: a fork.
    const fork = await addDevice(crypto, account, v2, (await createDeviceKeys(crypto, account, NOW)).certificate, NOW);
    await rejectsWith(acceptDeviceList(crypto, v3, fork), 'STALE_DEVICE_LIST');
    // A list of another account never replaces ours.
    await rejectsWith(acceptDeviceList(crypto, v3, (await primary()).list), 'IDENTITY_MISMATCH');

    await rejectsWith(addDevice(crypto, account, v3, laptop.certificate, NOW), 'DEVICE_REVOKED');
    await rejectsWith(addDevice(crypto, account, v3, device.certificate, NOW), 'INVALID_CHANGE');
    await rejectsWith(revokeDevice(crypto, account, v3, laptopId, NOW), 'NOT_IN_DEVICE_LIST');
    await rejectsWith(revokeDevice(crypto, account, v3, await deviceIdOf(crypto, device.signing.publicKey), NOW), 'INVALID_CHANGE');
  });

  it('cannot be extended without the account secret key', async () => {
    const { account, list } = await primary();
    const stranger = await createAccountKeys(crypto);
    const strangerDevice = await createDeviceKeys(crypto, stranger, NOW);
    await rejectsWith(addDevice(crypto, stranger, list, strangerDevice.certificate, NOW), 'IDENTITY_MISMATCH');
    await rejectsWith(addDevice(crypto, account, list, strangerDevice.certificate, NOW), 'IDENTITY_MISMATCH');
  });

  it(`holds at most MAX_LISTED_DEVICES (${MAX_LISTED_DEVICES}) devices, at least 4 linked`, async () => {
    assert.ok(MAX_LISTED_DEVICES >= 5);
    const { account, list } = await primary();
    let current = list;
    for (let i = 1; i < MAX_LISTED_DEVICES; i++) {
      current = await addDevice(crypto, account, current, (await createDeviceKeys(crypto, account, NOW)).certificate, NOW);
    }
    assert.equal(current.devices.length, MAX_LISTED_DEVICES);
    await rejectsWith(addDevice(crypto, account, current, (await createDeviceKeys(crypto, account, NOW)).certificate, NOW), 'DEVICE_LIST_FULL');
    await verifyDeviceList(crypto, decodeDeviceList(encodeDeviceList(current)));
  });

  it('property: any sequence of adds and revokes gives verifiable lists with increasing counters', async () => {
    const { account, list } = await primary();
    const pool = await Promise.all(Array.from({ length: 6 }, () => createDeviceKeys(crypto, account, NOW)));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.nat(5)), { maxLength: 12 }), async (ops) => {
        let current: DeviceList = list;
        const history: DeviceList[] = [list];
        for (const [add, which] of ops) {
          const cert = pool[which]!.certificate;
          const id = await deviceIdOf(crypto, cert.deviceSigningKey);
          try {
            current = add ? await addDevice(crypto, account, current, cert, NOW) : await revokeDevice(crypto, account, current, id, NOW);
          } catch (e) {
            assert.ok(e instanceof ProtocolError);
            assert.ok(['INVALID_CHANGE', 'DEVICE_REVOKED', 'NOT_IN_DEVICE_LIST'].includes(e.code));
            continue;
          }
          await verifyDeviceList(crypto, current, account.signing.publicKey);
          history.push(current);
          // A revoked device is never listed again.
          for (const r of current.revoked) assert.ok(!(await deviceListIds(crypto, current)).some((x) => equalBytes(x, r.deviceId)));
        }
        for (let i = 1; i < history.length; i++) {
          assert.ok(history[i]!.counter > history[i - 1]!.counter);
          await rejectsWith(acceptDeviceList(crypto, history[i]!, history[i - 1]!), 'STALE_DEVICE_LIST');
        }
      }),
      { numRuns: 15 },
    );
  });

  it('decoder never throws anything but ProtocolError (fuzz)', async () => {
    const { list } = await primary();
    const bytes = encodeDeviceList(list);
    fc.assert(
      fc.property(fc.nat(bytes.length), fc.uint8Array({ maxLength: 64 }), fc.nat(bytes.length), (cut, noise, at) => {
        const mutated = new Uint8Array([...bytes.subarray(0, at), ...noise, ...bytes.subarray(at)]).subarray(0, cut + noise.length);
        try {
          decodeDeviceList(mutated);
        } catch (e) {
          assert.ok(e instanceof ProtocolError, String(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('link code', () => {
  it('round-trips, contains only public keys and refuses garbage with ProtocolError', async () => {
    const request = await startProvisioning(crypto, RELAY);
    assert.ok(request.linkCode.startsWith('pigeon://link/'));
    const link = parseLinkCode(`  ${request.linkCode}\n`);
    assert.equal(link.relayUrl, RELAY);
    assert.ok(equalBytes(link.ephemeralKey, request.ephemeral.publicKey));
    assert.equal(encodeLinkCode(link), request.linkCode);
    for (const secret of [request.ephemeral.secretKey, request.signing.secretKey, request.identity.secretKey]) {
      assert.ok(!request.linkCode.includes(toHex(secret)));
      assert.ok(!JSON.stringify(request).includes(toHex(secret)));
      assert.ok(!inspect(request, { depth: 5 }).includes(toHex(secret)));
    }
    for (const bad of ['', 'pigeon://link/', 'https://x/', 'pigeon://link/!!!', `${request.linkCode}AAAA`, request.linkCode.slice(0, -3)]) {
      assert.throws(() => parseLinkCode(bad), ProtocolError);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parseLinkCode(`pigeon://link/${s}`);
        } catch (e) {
          assert.ok(e instanceof ProtocolError);
        }
      }),
    );
  });
});

describe('provisioning', () => {
  it('links a new device end to end without the account secret leaving the existing device', async () => {
    const { account, list } = await primary();
    const request = await startProvisioning(crypto, RELAY);
    const link = parseLinkCode(request.linkCode);
    const extra = new Uint8Array([1, 2, 3]);
    const created = await createProvisioningMessage(crypto, { account, deviceList: list, link, now: NOW, extra });
    assert.equal(created.deviceList.counter, 2);
    assert.ok(!toHex(created.envelope).includes(toHex(account.signing.secretKey)));

    const opened = await openProvisioningMessage(crypto, request, created.envelope);
    assert.equal(opened.confirmationCode, created.confirmationCode);
    assert.match(opened.confirmationCode, /^\d{6}$/);
    const accountId = await accountIdOf(crypto, account.signing.publicKey);
    assert.equal(opened.pigeonId, formatPigeonId(accountId));
    assert.ok(equalBytes(opened.accountKey, account.signing.publicKey));
    assert.ok(equalBytes(opened.deviceKeys.signing.secretKey, request.signing.secretKey));
    assert.ok(deviceListIncludes(opened.deviceList, opened.deviceKeys.certificate));
    assert.deepEqual([...opened.extra], [1, 2, 3]);
    assert.ok(equalBytes(created.deviceId, await deviceIdOf(crypto, request.signing.publicKey)));
    // The decrypted message never carries the account secret key.
    const stored = encodeDeviceKeys(opened.deviceKeys);
    assert.ok(!toHex(stored).includes(toHex(account.signing.secretKey)));
    await openProvisioningMessage(crypto, request, created.envelope, { expectedAccountId: accountId });
    await rejectsWith(openProvisioningMessage(crypto, request, created.envelope, { expectedAccountId: new Uint8Array(16) }), 'IDENTITY_MISMATCH');
  });

  it('refuses a tampered, replayed (other attempt) or wrongly addressed message', async () => {
    const { account, list } = await primary();
    const request = await startProvisioning(crypto, RELAY);
    const created = await createProvisioningMessage(crypto, { account, deviceList: list, link: request.link, now: NOW });
    for (const i of [0, 1, 20, 40, created.envelope.length - 1]) {
      const t = created.envelope.slice();
      t[i] = t[i]! ^ 0x20;
      await assert.rejects(openProvisioningMessage(crypto, request, t), (e: unknown) => e instanceof ProtocolError && ['DECRYPT_FAILED', 'UNKNOWN_VERSION'].includes(e.code));
    }
    await rejectsWith(openProvisioningMessage(crypto, request, created.envelope.subarray(0, 40)), 'TRUNCATED');
    await rejectsWith(openProvisioningMessage(crypto, request, new Uint8Array(MAX_PROVISIONING_ENVELOPE_BYTES + 1)), 'FIELD_TOO_LARGE');
    // Replayed to a later attempt (new ephemeral key and id): does not open.
    const later = await startProvisioning(crypto, RELAY);
    await rejectsWith(openProvisioningMessage(crypto, later, created.envelope), 'DECRYPT_FAILED');
    // Same ephemeral key, another provisioning id: the id is in the AAD.
    const otherId = { ...request, link: { ...request.link, provisioningId: new Uint8Array(16).fill(9) } };
    await rejectsWith(openProvisioningMessage(crypto, otherId, created.envelope), 'DECRYPT_FAILED');
  });

  it('refuses a certificate for other keys and a list that does not chain to the account', async () => {
    const { account, list } = await primary();
    const request = await startProvisioning(crypto, RELAY);
    // A relay (or anyone who saw the QR code) substituting its own device keys: the certificate names other keys.
    const intruder = await startProvisioning(crypto, RELAY);
    const swapped = { ...request.link, deviceSigningKey: intruder.link.deviceSigningKey, deviceIdentityKey: intruder.link.deviceIdentityKey };
    const forged = await createProvisioningMessage(crypto, { account, deviceList: list, link: swapped, now: NOW });
    await rejectsWith(openProvisioningMessage(crypto, request, forged.envelope), 'IDENTITY_MISMATCH');
    // Another account links the device: it opens, but shows another Pigeon ID and code than the user's device.
    const other = await primary();
    const foreign = await createProvisioningMessage(crypto, { account: other.account, deviceList: other.list, link: request.link, now: NOW });
    const mine = await createProvisioningMessage(crypto, { account, deviceList: list, link: request.link, now: NOW });
    const openedForeign = await openProvisioningMessage(crypto, request, foreign.envelope);
    assert.notEqual(openedForeign.pigeonId, formatPigeonId(await accountIdOf(crypto, account.signing.publicKey)));
    assert.notEqual(openedForeign.confirmationCode, mine.confirmationCode);
    // The existing device refuses to use a list of another account.
    await rejectsWith(createProvisioningMessage(crypto, { account, deviceList: other.list, link: request.link, now: NOW }), 'IDENTITY_MISMATCH');
    await rejectsWith(
      createProvisioningMessage(crypto, { account, deviceList: list, link: request.link, now: NOW, extra: new Uint8Array(MAX_PROVISIONING_EXTRA_BYTES + 1) }),
      'FIELD_TOO_LARGE',
    );
  });

  it('fuzzed envelopes only ever fail with ProtocolError', async () => {
    const { account, list } = await primary();
    const request = await startProvisioning(crypto, RELAY);
    const created = await createProvisioningMessage(crypto, { account, deviceList: list, link: request.link, now: NOW });
    await fc.assert(
      fc.asyncProperty(fc.nat(created.envelope.length), fc.uint8Array({ maxLength: 40 }), async (at, noise) => {
        const mutated = new Uint8Array([...created.envelope.subarray(0, at), ...noise]);
        if (noise.length === created.envelope.length - at && equalBytes(mutated, created.envelope)) return;
        await assert.rejects(openProvisioningMessage(crypto, request, mutated), ProtocolError);
      }),
      { numRuns: 100 },
    );
  });
});
