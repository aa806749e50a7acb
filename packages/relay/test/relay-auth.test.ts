import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLOSE_CODES } from '@pigeon/api';
import { TestClient } from './helpers/client.js';
import { assertError, assertOk, authenticated, registered, startTestRelay, type TestRelay } from './helpers/harness.js';
import { newDevice, signChallenge } from './helpers/identity.js';

describe('relay: registration and authentication', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.relay.stop());

  it('sends a fresh 32-byte challenge on every connection', async () => {
    const a = await TestClient.connect(relay.url);
    const b = await TestClient.connect(relay.url);
    assert.equal(a.challenge.nonce.length, 32);
    assert.notDeepStrictEqual(a.challenge.nonce, b.challenge.nonce);
    assert.ok(Math.abs(a.challenge.relayTime - Date.now()) < 60_000);
    await a.close();
    await b.close();
  });

  it('registers a device (register = authenticated) and later authenticates it; queue_empty follows', async () => {
    const { client, device } = await registered(relay.url);
    assert.equal((await client.next((f) => f.type === 'queue_empty')).type, 'queue_empty');
    assert.equal((await client.request({ type: 'prekey_status', id: 77 })).type, 'prekey_status_result');
    await client.close();
    const again = await authenticated(relay.url, device);
    assert.equal((await again.next((f) => f.type === 'queue_empty')).type, 'queue_empty');
    await again.close();
  });

  it('registering the same device again is idempotent', async () => {
    const { client, device } = await registered(relay.url);
    await client.close();
    const second = await registered(relay.url, device);
    await second.client.close();
  });

  it('refuses a certificate that does not verify (BAD_CERTIFICATE) and garbage certificates', async () => {
    const d = await newDevice();
    const client = await TestClient.connect(relay.url);
    const tampered = d.certificate.slice();
    tampered[tampered.length - 1]! ^= 1;
    assertError(await client.request({ type: 'register', id: 1, certificate: tampered, signature: await signChallenge(d, client.challenge.nonce) }), 'BAD_CERTIFICATE');
    const c2 = await TestClient.connect(relay.url);
    assertError(await c2.request({ type: 'register', id: 1, certificate: new Uint8Array([1, 2, 3]), signature: new Uint8Array(64) }), 'BAD_CERTIFICATE');
    await client.close();
    await c2.close();
  });

  it('refuses a signature by the wrong key or over the wrong nonce (AUTH_FAILED)', async () => {
    const d = await newDevice();
    const other = await newDevice();
    const client = await TestClient.connect(relay.url);
    assertError(await client.request({ type: 'register', id: 1, certificate: d.certificate, signature: await signChallenge(other, client.challenge.nonce) }), 'AUTH_FAILED');
    await client.close();
    const { client: c } = await registered(relay.url, d);
    await c.close();
    // A foreign nonce: the signature answers another connection's challenge.
    const victim = await TestClient.connect(relay.url);
    const attacker = await TestClient.connect(relay.url);
    const sigForVictim = await signChallenge(d, victim.challenge.nonce);
    assertError(await attacker.request({ type: 'auth', id: 1, deviceId: d.deviceId, signature: sigForVictim }), 'AUTH_FAILED');
    await victim.close();
    await attacker.close();
  });

  it('the challenge is single use: a second attempt on the connection fails even with a valid signature', async () => {
    const d = await newDevice();
    await (await registered(relay.url, d)).client.close();
    const client = await TestClient.connect(relay.url);
    const good = await signChallenge(d, client.challenge.nonce);
    assertError(await client.request({ type: 'auth', id: 1, deviceId: d.deviceId, signature: new Uint8Array(64) }), 'AUTH_FAILED');
    assertError(await client.request({ type: 'auth', id: 2, deviceId: d.deviceId, signature: good }), 'AUTH_FAILED');
    await client.close();
    // Replaying a recorded (valid) auth frame on a new connection fails: new nonce.
    const replay = await TestClient.connect(relay.url);
    assertError(await replay.request({ type: 'auth', id: 1, deviceId: d.deviceId, signature: good }), 'AUTH_FAILED');
    await replay.close();
  });

  it('unknown device -> AUTH_FAILED; already authenticated -> ALREADY_AUTHENTICATED', async () => {
    const stranger = await newDevice();
    const client = await TestClient.connect(relay.url);
    assertError(await client.request({ type: 'auth', id: 1, deviceId: stranger.deviceId, signature: await signChallenge(stranger, client.challenge.nonce) }), 'AUTH_FAILED');
    await client.close();
    const { client: c, device } = await registered(relay.url);
    assertError(await c.request({ type: 'auth', id: 9, deviceId: device.deviceId, signature: new Uint8Array(64) }), 'ALREADY_AUTHENTICATED');
    assertError(await c.request({ type: 'register', id: 10, certificate: device.certificate, signature: new Uint8Array(64) }), 'ALREADY_AUTHENTICATED');
    await c.close();
  });

  it('requests that need a device answer NOT_AUTHENTICATED before auth', async () => {
    const client = await TestClient.connect(relay.url);
    assertError(await client.request({ type: 'prekey_status', id: 1 }), 'NOT_AUTHENTICATED');
    assertError(await client.request({ type: 'ack', id: 2, messageIds: [] }), 'NOT_AUTHENTICATED');
    assertError(await client.request({ type: 'set_delivery_tokens', id: 3, add: [], remove: [] }), 'NOT_AUTHENTICATED');
    assertError(await client.request({ type: 'upload_prekeys', id: 4, signedPreKey: null, kemLastResortPreKey: null, oneTimePreKeys: [], kemOneTimePreKeys: [] }), 'NOT_AUTHENTICATED');
    assert.equal((await client.request({ type: 'ping', id: 5 })).type, 'pong');
    await client.close();
  });

  it('a second connection of the same device pushes the first off with REPLACED', async () => {
    const { client: first, device } = await registered(relay.url);
    const second = await authenticated(relay.url, device);
    assert.equal((await first.closed).code, CLOSE_CODES.REPLACED);
    assert.equal((await second.request({ type: 'ping', id: 3 })).type, 'pong');
    await second.close();
  });

  it('enforces the device limit per account (LIMIT_EXCEEDED)', async () => {
    const small = await startTestRelay({ limits: { maxDevicesPerAccount: 2 } });
    try {
      const a = await newDevice();
      const b = await newDevice(a.account);
      const c = await newDevice(a.account);
      await (await registered(small.url, a)).client.close();
      await (await registered(small.url, b)).client.close();
      const client = await TestClient.connect(small.url);
      assertError(await client.request({ type: 'register', id: 1, certificate: c.certificate, signature: await signChallenge(c, client.challenge.nonce) }), 'LIMIT_EXCEEDED');
      await client.close();
    } finally {
      await small.relay.stop();
    }
  });
});
