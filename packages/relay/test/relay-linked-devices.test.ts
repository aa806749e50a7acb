/** Linked devices over real sockets (docs/relay-api.md "Linked devices"): provisioning, device lists, revocation. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLOSE_CODES, type DeviceBundlesFrame, type DeviceListFrame, type ProvisionMessageFrame } from '@pigeon/api';
import {
  addDevice,
  createDeviceKeys,
  createDeviceList,
  createProvisioningMessage,
  decodeDeviceList,
  decodePreKeyBundle,
  deviceIdOf,
  encodeDeviceCertificate,
  encodeDeviceList,
  openProvisioningMessage,
  parseLinkCode,
  revokeDevice,
  startProvisioning,
  type DeviceList,
} from '@pigeon/protocol';
import { TestClient } from './helpers/client.js';
import { assertError, assertOk, randomId, randomToken, registered, setTokens, startTestRelay, type TestRelay } from './helpers/harness.js';
import { crypto, newDevice, preKeyUpload, signChallenge, type TestDevice } from './helpers/identity.js';

let relay: TestRelay;
before(async () => {
  relay = await startTestRelay();
});
after(async () => {
  await relay.relay.stop();
});

const clients: TestClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(relay.url);
  clients.push(c);
  return c;
}

async function putList(client: TestClient, list: DeviceList | Uint8Array) {
  const deviceList = list instanceof Uint8Array ? list : encodeDeviceList(list);
  return client.request({ type: 'put_device_list', id: client.id(), deviceList });
}

/** A primary device registered with prekeys and a published list (counter 1). */
async function primaryAccount() {
  const session = await registered(relay.url);
  clients.push(session.client);
  assertOk(await session.client.request(await preKeyUpload(session.device, session.client.id(), { oneTime: 2, kemOneTime: 1 })));
  const list = await createDeviceList(crypto, session.device.account, [session.device.keys.certificate], Date.now());
  assertOk(await putList(session.client, list));
  return { ...session, list };
}

async function registerRaw(device: TestDevice) {
  const c = await connect();
  return { client: c, reply: await c.request({ type: 'register', id: c.id(), certificate: device.certificate, signature: await signChallenge(device, c.challenge.nonce) }) };
}

describe('provisioning channel', () => {
  it('links a new device end to end through the relay, encrypted to the QR code key', async () => {
    const primary = await primaryAccount();
    // New device: opens its mailbox without authenticating, shows the link code.
    const request = await startProvisioning(crypto, relay.url);
    const fresh = await connect();
    assertOk(await fresh.request({ type: 'provision_open', id: fresh.id(), provisioningId: request.link.provisioningId }));
    assertError(await fresh.request({ type: 'provision_open', id: fresh.id(), provisioningId: randomId() }), 'PROVISIONING_CLOSED');
    const again = await connect();
    assertError(await again.request({ type: 'provision_open', id: again.id(), provisioningId: request.link.provisioningId }), 'PROVISIONING_CLOSED');

    // Existing device: scans the code, publishes the next list, sends the sealed message.
    const link = parseLinkCode(request.linkCode);
    const created = await createProvisioningMessage(crypto, { account: primary.device.account, deviceList: primary.list, link, now: Date.now() });
    assertOk(await putList(primary.client, created.deviceList));
    const pushed = fresh.next((f) => f.type === 'provision_message', 'provision_message') as Promise<ProvisionMessageFrame>;
    assertOk(await primary.client.request({ type: 'provision_send', id: primary.client.id(), provisioningId: link.provisioningId, envelope: created.envelope }));
    const message = await pushed;
    assert.deepEqual(Buffer.from(message.provisioningId), Buffer.from(link.provisioningId));

    // One message per mailbox: a second send finds it gone.
    const replay = await primary.client.request({ type: 'provision_send', id: primary.client.id(), provisioningId: link.provisioningId, envelope: created.envelope });
    assertError(replay, 'UNKNOWN_PROVISIONING');

    const opened = await openProvisioningMessage(crypto, request, message.envelope);
    assert.equal(opened.confirmationCode, created.confirmationCode);
    const linked: TestDevice = {
      account: primary.device.account,
      keys: opened.deviceKeys,
      deviceId: created.deviceId,
      accountId: opened.accountId,
      certificate: encodeDeviceCertificate(opened.deviceKeys.certificate),
    };
    const { reply } = await registerRaw(linked);
    assertOk(reply);
  });

  it('refuses sends to mailboxes that were never opened', async () => {
    const c = await connect();
    assertError(await c.request({ type: 'provision_send', id: c.id(), provisioningId: randomId(), envelope: new Uint8Array(10) }), 'UNKNOWN_PROVISIONING');
  });
});

describe('device lists on the relay', () => {
  it('put_device_list: auth required, signature and account checked, counter must increase', async () => {
    const primary = await primaryAccount();
    const anon = await connect();
    assertError(await putList(anon, primary.list), 'NOT_AUTHENTICATED');
    const other = await newDevice();
    const foreign = await createDeviceList(crypto, other.account, [other.keys.certificate], Date.now());
    assertError(await putList(primary.client, foreign), 'BAD_DEVICE_LIST');
    const tampered = encodeDeviceList(primary.list);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    assertError(await putList(primary.client, tampered), 'BAD_DEVICE_LIST');
    assertError(await putList(primary.client, new Uint8Array([1, 2, 3])), 'BAD_DEVICE_LIST');
    assertOk(await putList(primary.client, primary.list)); // same list again: harmless
    const laptop = await createDeviceKeys(crypto, primary.device.account, Date.now());
    const v2 = await addDevice(crypto, primary.device.account, primary.list, laptop.certificate, Date.now());
    assertOk(await putList(primary.client, v2));
    assertError(await putList(primary.client, primary.list), 'STALE_DEVICE_LIST');
  });

  it('a device certified by the account key but not in the signed list cannot register', async () => {
    const primary = await primaryAccount();
    const extra = await newDevice(primary.device.account);
    assertError((await registerRaw(extra)).reply, 'DEVICE_NOT_LISTED');
    // A stranger's certificate for this account cannot exist without the account key; listing the device first makes it work.
    const v2 = await addDevice(crypto, primary.device.account, primary.list, extra.keys.certificate, Date.now());
    assertOk(await putList(primary.client, v2));
    assertOk((await registerRaw(extra)).reply);
  });

  it('fetch_device_bundles returns only listed devices and the list; a revoked device is cut off', async () => {
    const primary = await primaryAccount();
    const token = randomToken();
    await setTokens(primary.client, [token]);
    const phone = await newDevice(primary.device.account);
    const v2 = await addDevice(crypto, primary.device.account, primary.list, phone.keys.certificate, Date.now());
    assertOk(await putList(primary.client, v2));
    const phoneSession = await registered(relay.url, phone);
    clients.push(phoneSession.client);
    assertOk(await phoneSession.client.request(await preKeyUpload(phone, phoneSession.client.id())));

    const stranger = await connect();
    const fetched = (await stranger.request({ type: 'fetch_device_bundles', id: stranger.id(), accountId: primary.device.accountId, deliveryToken: token })) as DeviceBundlesFrame;
    assert.equal(fetched.type, 'device_bundles');
    assert.equal(fetched.bundles.length, 2);
    assert.equal(decodeDeviceList(fetched.deviceList).counter, 2);
    assertError(await stranger.request({ type: 'fetch_device_bundles', id: stranger.id(), accountId: primary.device.accountId, deliveryToken: randomToken() }), 'BAD_DELIVERY_TOKEN');
    const listReply = (await stranger.request({ type: 'fetch_device_list', id: stranger.id(), accountId: primary.device.accountId, deliveryToken: token })) as DeviceListFrame;
    assert.equal(decodeDeviceList(listReply.deviceList).counter, 2);
    // Own devices need no token.
    const own = (await phoneSession.client.request({ type: 'fetch_device_list', id: phoneSession.client.id(), accountId: primary.device.accountId, deliveryToken: new Uint8Array(0) })) as DeviceListFrame;
    assert.equal(own.type, 'device_list');

    // Mail waiting for the phone, then the phone is revoked.
    assertOk(await stranger.request({ type: 'send', id: stranger.id(), messageId: randomId(), recipientDeviceId: phone.deviceId, deliveryToken: token, envelope: new Uint8Array(50) }));
    const v3 = await revokeDevice(crypto, primary.device.account, v2, await deviceIdOf(crypto, phone.keys.signing.publicKey), Date.now());
    assertOk(await putList(primary.client, v3));
    assert.equal((await phoneSession.client.closed).code, CLOSE_CODES.REVOKED);
    assert.deepEqual(await relay.relay.store.mailboxUsage(phone.deviceId), { messages: 0, bytes: 0 });

    // It gets nothing more: no auth, no re-registration, no mail, no bundle.
    const retry = await connect();
    assertError(await retry.request({ type: 'auth', id: retry.id(), deviceId: phone.deviceId, signature: await signChallenge(phone, retry.challenge.nonce) }), 'AUTH_FAILED');
    assertError((await registerRaw(phone)).reply, 'DEVICE_NOT_LISTED');
    assertError(
      await stranger.request({ type: 'send', id: stranger.id(), messageId: randomId(), recipientDeviceId: phone.deviceId, deliveryToken: token, envelope: new Uint8Array(50) }),
      'UNKNOWN_RECIPIENT',
    );
    const after3 = (await stranger.request({ type: 'fetch_device_bundles', id: stranger.id(), accountId: primary.device.accountId, deliveryToken: token })) as DeviceBundlesFrame;
    assert.equal(after3.bundles.length, 1);
    assert.equal(decodePreKeyBundle(after3.bundles[0]!).certificate.deviceSigningKey.length, 32);
    assert.equal(decodeDeviceList(after3.deviceList).counter, 3);
    // The primary itself is still connected and authenticated.
    assertOk(await primary.client.request({ type: 'prekey_status', id: primary.client.id() }).then((f) => (f.type === 'prekey_status_result' ? { type: 'ok' as const, id: 0 } : f)));
  });
});
