/**
 * Hostile input against a relay running as its own process (issue 2, "Tests it must have"):
 * garbage, oversized frames and fields, frames of the wrong type, bad signatures, replayed auth,
 * unknown recipients, exhausted prekeys. Each gets its documented error code or close code
 * (packages/api/src/errors.ts: RELAY_ERROR_CODES, CLOSE_CODES); meanwhile a CLI user stays
 * connected, and afterwards mail stored before the abuse is delivered and the pair still chats.
 * The relay package tests the same rules in-process; here the relay is a separate process.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  API_VERSION,
  CLIENT_FRAME_TYPES,
  CLOSE_CODES,
  MAX_ENVELOPE_BYTES,
  MAX_FRAME_BYTES,
  encodeClientFrame,
  encodeRelayFrame,
} from '@pigeon/api';
import type { BundlesFrame, PreKeyStatusResultFrame } from '@pigeon/api';
import { decodePreKeyBundle, verifyPreKeyBundle } from '@pigeon/protocol';
import { killAll, livePigeon, pigeonJson, startRelay, tempDir } from '../src/support/processes.js';
import type { LiveProcess, RelayProcess } from '../src/support/processes.js';
import {
  RawClient,
  assertError,
  assertOk,
  crypto,
  newDevice,
  preKeyUpload,
  randomId,
  randomToken,
  register,
  signChallenge,
} from '../src/support/raw-client.js';

/** The relay's default maxBadFrames (packages/relay/src/options.ts DEFAULT_LIMITS). */
const MAX_BAD_FRAMES = 5;

describe('hostile input against a relay process', () => {
  const dir = tempDir('abuse');
  const profile = (name: string) => ['--profile', join(dir.path, name)];
  let relay: RelayProcess;
  let bobListen: LiveProcess;
  const storedBefore = ['stored before the abuse 1', 'stored before the abuse 2'];

  before(async () => {
    relay = await startRelay(join(dir.path, 'relay-data'));
    await Promise.all([
      pigeonJson(['init', '--relay', relay.url, '--name', 'Alice', ...profile('alice')]),
      pigeonJson(['init', '--relay', relay.url, '--name', 'Bob', ...profile('bob')]),
    ]);
    const { link } = await pigeonJson(['invite', ...profile('alice')]);
    await pigeonJson(['accept', link, ...profile('bob')]);
    const intro = await pigeonJson(['inbox', ...profile('alice')]);
    assert.equal(intro.newContacts[0].name, 'Bob');
    // Mail for Alice (offline) sits in the relay's mailbox during everything that follows.
    for (const text of storedBefore) assert.equal((await pigeonJson(['send', 'Alice', text, ...profile('bob')])).state, 'sent');
    bobListen = livePigeon('bob listen', ['listen', '--json', ...profile('bob')]);
    await bobListen.waitForEvent('bob connected', (e) => e.event === 'connection' && e.state === 'connected');
  });

  after(async () => {
    await killAll();
    dir.remove();
  });

  it('garbage gets BAD_FRAME / UNSUPPORTED_VERSION, and a connection that keeps at it is closed (4000)', async () => {
    const c = await RawClient.connect(relay.url);
    c.sendRaw(new Uint8Array([API_VERSION]));
    assertError(await c.nextError(), 'BAD_FRAME', 0);
    const junk = new Uint8Array(randomBytes(100));
    junk[0] = API_VERSION;
    junk[1] = 0x7e; // no frame type
    c.sendRaw(junk);
    assertError(await c.nextError(), 'BAD_FRAME', 0);
    c.sendRaw('{"type":"ping"}');
    assertError(await c.nextError(), 'BAD_FRAME', 0);
    const future = encodeClientFrame({ type: 'ping', id: 7 });
    future[0] = API_VERSION + 1;
    c.sendRaw(future);
    assertError(await c.nextError(), 'UNSUPPORTED_VERSION');
    c.sendRaw(new Uint8Array(randomBytes(33)));
    assert.equal((await c.closed).code, CLOSE_CODES.BAD_FRAMES);
    assert.equal(c.undecodable, 0, 'every answer of the relay decodes');

    // A valid frame with a byte too many is BAD_FRAME for that request (the id is answered).
    const d = await RawClient.connect(relay.url);
    const ping = encodeClientFrame({ type: 'ping', id: 4242 });
    const padded = new Uint8Array(ping.length + 1);
    padded.set(ping);
    d.sendRaw(padded);
    assertError(await d.nextError(), 'BAD_FRAME', 4242);
    d.sendRaw(ping.subarray(0, ping.length - 1));
    assertError(await d.nextError(), 'BAD_FRAME');
    assert.equal((await d.request({ type: 'ping', id: d.id() })).type, 'pong');
    await d.close();

    // Random bytes on many connections: each is answered or closed, never a crash.
    for (let round = 0; round < 15; round++) {
      const e = await RawClient.connect(relay.url);
      for (let i = 0; i < MAX_BAD_FRAMES; i++) {
        const bytes = new Uint8Array(randomBytes(1 + ((round * 37 + i * 11) % 300)));
        if (i % 2 === 1) bytes[0] = API_VERSION;
        if (i === 3 && bytes.length > 1) bytes[1] = Object.values(CLIENT_FRAME_TYPES)[round % 9]!;
        e.sendRaw(bytes);
      }
      await Promise.race([e.closed, e.request({ type: 'ping', id: 99 })]);
      await e.close();
    }
    assert.ok(relay.proc.running, 'the relay process is alive');
  });

  it('a frame above MAX_FRAME_BYTES closes with 1009; an oversized field or list is refused per request', async () => {
    const c = await RawClient.connect(relay.url);
    c.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1));
    assert.equal((await c.closed).code, CLOSE_CODES.TOO_BIG);

    const d = await RawClient.connect(relay.url);
    // A send whose envelope length field claims more than MAX_ENVELOPE_BYTES, in a small frame.
    const token = randomToken();
    const head = new Uint8Array(2 + 4 + 16 + 16 + 4 + token.length + 4);
    const view = new DataView(head.buffer);
    head[0] = API_VERSION;
    head[1] = CLIENT_FRAME_TYPES.send;
    view.setUint32(2, 31);
    head.set(randomId(), 6);
    head.set(randomId(), 22);
    view.setUint32(38, token.length);
    head.set(token, 42);
    view.setUint32(42 + token.length, MAX_ENVELOPE_BYTES + 1);
    const frame = new Uint8Array(head.length + 16);
    frame.set(head);
    d.sendRaw(frame);
    assertError(await d.nextError(), 'BAD_FRAME', 31);
    // An ack with more ids than MAX_ACK_IDS: LIMIT_EXCEEDED, answered for its request id.
    d.sendRaw(new Uint8Array([API_VERSION, CLIENT_FRAME_TYPES.ack, 0, 0, 0, 9, 0xff, 0xff]));
    assertError(await d.nextError(), 'LIMIT_EXCEEDED', 9);
    // An envelope just at the bound is a well-formed send (refused only for its unknown recipient).
    const big = await d.request({ type: 'send', id: d.id(), messageId: randomId(), recipientDeviceId: randomId(), deliveryToken: token, envelope: new Uint8Array(MAX_ENVELOPE_BYTES) });
    assertError(big, 'UNKNOWN_RECIPIENT');
    await d.close();
  });

  it('relay->client frame types from a client get UNEXPECTED_FRAME; requests in the wrong state are refused', async () => {
    const c = await RawClient.connect(relay.url);
    const wrongWay = [
      encodeRelayFrame({ type: 'ok', id: 5 }),
      encodeRelayFrame({ type: 'challenge', nonce: new Uint8Array(32), relayTime: Date.now() }),
      encodeRelayFrame({ type: 'deliver', messageId: randomId(), envelope: new Uint8Array([1, 2, 3]), receivedAt: Date.now() }),
      encodeRelayFrame({ type: 'queue_empty' }),
    ];
    assert.ok(wrongWay.length < MAX_BAD_FRAMES);
    for (const bytes of wrongWay) {
      c.sendRaw(bytes);
      assertError(await c.nextError(), 'UNEXPECTED_FRAME');
    }
    assertError(await c.request({ type: 'ack', id: c.id(), messageIds: [randomId()] }), 'NOT_AUTHENTICATED');
    assertError(await c.request({ type: 'prekey_status', id: c.id() }), 'NOT_AUTHENTICATED');
    assertError(await c.request({ type: 'set_delivery_tokens', id: c.id(), add: [randomToken()], remove: [] }), 'NOT_AUTHENTICATED');
    assert.equal((await c.request({ type: 'ping', id: c.id() })).type, 'pong');
    await c.close();

    const device = await newDevice();
    const r = await register(relay.url, device);
    const again = await r.request({ type: 'register', id: r.id(), certificate: device.certificate, signature: await signChallenge(device, r.challenge.nonce) });
    assertError(again, 'ALREADY_AUTHENTICATED');
    await r.close();
  });

  it('bad signatures: AUTH_FAILED, BAD_CERTIFICATE, BAD_SIGNATURE, and nothing of a bad upload is stored', async () => {
    const device = await newDevice();
    const stranger = await newDevice();

    const wrongKey = await RawClient.connect(relay.url);
    const byStranger = await signChallenge(stranger, wrongKey.challenge.nonce);
    assertError(await wrongKey.request({ type: 'register', id: wrongKey.id(), certificate: device.certificate, signature: byStranger }), 'AUTH_FAILED');
    await wrongKey.close();

    const tampered = await RawClient.connect(relay.url);
    const cert = device.certificate.slice();
    cert[cert.length - 1]! ^= 0x01; // the account key's signature over the device keys
    assertError(
      await tampered.request({ type: 'register', id: tampered.id(), certificate: cert, signature: await signChallenge(device, tampered.challenge.nonce) }),
      'BAD_CERTIFICATE',
    );
    await tampered.close();

    const r = await register(relay.url, device);
    const wrongNonce = await RawClient.connect(relay.url);
    const overOtherNonce = await signChallenge(device, r.challenge.nonce);
    assertError(await wrongNonce.request({ type: 'auth', id: wrongNonce.id(), deviceId: device.deviceId, signature: overOtherNonce }), 'AUTH_FAILED');
    await wrongNonce.close();

    const upload = await preKeyUpload(device, r.id(), 3, 3, 100);
    const badUpload = { ...upload, kemOneTimePreKeys: upload.kemOneTimePreKeys.map((k, i) => (i === 2 ? { ...k, signature: k.signature.map((b, j) => (j === 0 ? b ^ 1 : b)) } : k)) };
    assertError(await r.request(badUpload), 'BAD_SIGNATURE', upload.id);
    const status = (await r.request({ type: 'prekey_status', id: r.id() })) as PreKeyStatusResultFrame;
    assert.equal(status.type, 'prekey_status_result');
    assert.deepEqual([status.oneTimePreKeys, status.kemOneTimePreKeys], [0, 0], 'a refused upload stores nothing');
    await r.close();
  });

  it('replayed auth: a captured auth or register frame fails on another connection (AUTH_FAILED); the challenge is single use', async () => {
    const device = await newDevice();
    const first = await RawClient.connect(relay.url);
    const registerBytes = encodeClientFrame({ type: 'register', id: 1, certificate: device.certificate, signature: await signChallenge(device, first.challenge.nonce) });
    first.sendRaw(registerBytes);
    assertOk(await first.next((f) => 'id' in f && f.id === 1, 'register reply'));

    const second = await RawClient.connect(relay.url);
    const authBytes = encodeClientFrame({ type: 'auth', id: 1, deviceId: device.deviceId, signature: await signChallenge(device, second.challenge.nonce) });
    second.sendRaw(authBytes);
    assertOk(await second.next((f) => 'id' in f && f.id === 1, 'auth reply'));
    assert.equal((await first.closed).code, CLOSE_CODES.REPLACED, 'the older connection of the device is pushed off');

    // The captured frames, byte for byte, on fresh connections (fresh challenges).
    for (const [what, bytes] of [['auth', authBytes], ['register', registerBytes]] as const) {
      const replay = await RawClient.connect(relay.url);
      replay.sendRaw(bytes);
      assertError(await replay.next((f) => f.type === 'error', `reply to the replayed ${what}`), 'AUTH_FAILED', 1);
      // ...and the challenge it burned is gone: even a correct signature fails now.
      const honest = await replay.request({ type: 'auth', id: 2, deviceId: device.deviceId, signature: await signChallenge(device, replay.challenge.nonce) });
      assertError(honest, 'AUTH_FAILED', 2);
      await replay.close();
    }
    // Replayed on the connection it came from: already authenticated.
    second.sendRaw(authBytes);
    assertError(await second.nextError(), 'ALREADY_AUTHENTICATED', 1);
    await second.close();
  });

  it('unknown recipients and accounts, wrong delivery tokens', async () => {
    const device = await newDevice();
    const token = randomToken();
    const owner = await register(relay.url, device);
    assertOk(await owner.request({ type: 'set_delivery_tokens', id: owner.id(), add: [token], remove: [] }));
    await owner.close();

    const c = await RawClient.connect(relay.url);
    const send = (recipient: Uint8Array, deliveryToken: Uint8Array) =>
      c.request({ type: 'send', id: c.id(), messageId: randomId(), recipientDeviceId: recipient, deliveryToken, envelope: new Uint8Array([1]) });
    assertError(await send(randomId(), token), 'UNKNOWN_RECIPIENT');
    assertError(await send(device.deviceId, randomToken()), 'BAD_DELIVERY_TOKEN');
    assertError(await send(device.deviceId, new Uint8Array(0)), 'BAD_DELIVERY_TOKEN');
    assertError(await c.request({ type: 'fetch_bundles', id: c.id(), accountId: randomId(), deliveryToken: token }), 'UNKNOWN_ACCOUNT');
    assertError(await c.request({ type: 'fetch_bundles', id: c.id(), accountId: device.accountId, deliveryToken: randomToken() }), 'BAD_DELIVERY_TOKEN');
    assertOk(await send(device.deviceId, token));
    await c.close();
  });

  it('exhausted prekeys: one-time keys are used up, then the last-resort key; a device that never uploaded gets NO_PREKEYS', async () => {
    const device = await newDevice();
    const token = randomToken();
    const owner = await register(relay.url, device);
    assertOk(await owner.request({ type: 'set_delivery_tokens', id: owner.id(), add: [token], remove: [] }));
    const LAST_RESORT_ID = 100;
    assertOk(await owner.request(await preKeyUpload(device, owner.id(), 2, 2, LAST_RESORT_ID)));

    const anon = await RawClient.connect(relay.url);
    const fetchOne = async () => {
      const reply = await anon.request({ type: 'fetch_bundles', id: anon.id(), accountId: device.accountId, deliveryToken: token });
      assert.equal(reply.type, 'bundles', reply.type === 'error' ? reply.code : reply.type);
      const { bundles } = reply as BundlesFrame;
      assert.equal(bundles.length, 1);
      const bundle = decodePreKeyBundle(bundles[0]!);
      await verifyPreKeyBundle(crypto, bundle);
      return { oneTime: bundle.oneTimePreKey?.id ?? null, kem: bundle.kemPreKey.id };
    };
    assert.deepEqual(await fetchOne(), { oneTime: 1, kem: 1 });
    assert.deepEqual(await fetchOne(), { oneTime: 2, kem: 2 });
    assert.deepEqual(await fetchOne(), { oneTime: null, kem: LAST_RESORT_ID }, 'falls back to the last-resort ML-KEM key');
    assert.deepEqual(await fetchOne(), { oneTime: null, kem: LAST_RESORT_ID }, 'the last-resort key is not consumed');
    const status = (await owner.request({ type: 'prekey_status', id: owner.id() })) as PreKeyStatusResultFrame;
    assert.deepEqual([status.oneTimePreKeys, status.kemOneTimePreKeys], [0, 0]);
    await owner.close();

    const silent = await newDevice();
    const silentToken = randomToken();
    const s = await register(relay.url, silent);
    assertOk(await s.request({ type: 'set_delivery_tokens', id: s.id(), add: [silentToken], remove: [] }));
    await s.close();
    assertError(await anon.request({ type: 'fetch_bundles', id: anon.id(), accountId: silent.accountId, deliveryToken: silentToken }), 'NO_PREKEYS');
    await anon.close();
  });

  it('afterwards: the relay is up, mail stored before is delivered, the pair still chats, the bystander was never cut off', async () => {
    assert.ok(relay.proc.running, 'the relay process is alive');
    const inbox = await pigeonJson(['inbox', ...profile('alice')]);
    assert.deepEqual(inbox.messages.map((m: { text: string }) => m.text), storedBefore);

    const sent = await pigeonJson(['send', 'Bob', 'after the abuse', ...profile('alice')]);
    assert.equal(sent.state, 'sent');
    const got = await bobListen.waitForEvent('the message after the abuse', (e) => e.event === 'message' && e.text === 'after the abuse');
    assert.equal(got.contactName, 'Alice');
    assert.equal(bobListen.count((e) => e.event === 'connection' && e.state === 'connected'), 1, 'the listening user stayed connected throughout');
    // Bob has seen Alice's delivery receipts for his stored messages (a full round trip).
    await bobListen.waitUntil('receipts for the stored messages', () => bobListen.count((e) => e.event === 'status' && (e.state === 'delivered' || e.state === 'read')) >= storedBefore.length);

    assert.equal((await bobListen.kill('SIGINT')).code, 0);
    const errors = relay.proc.errLines.filter((l) => l.includes('"level":"error"'));
    assert.deepEqual(errors, [], 'the relay logged no internal error');
    const stop = await relay.proc.kill('SIGTERM');
    assert.equal(stop.code, 0, 'the relay shuts down cleanly');
  });
});
